""".env.example lists every variable the settings read, and nothing else."""

from __future__ import annotations

from tests.deploy.compose import COMPOSE_ONLY, env_example_variables, settings_variables


def test_every_setting_variable_is_documented():
    missing = settings_variables() - set(env_example_variables())
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_it_documents_no_variable_that_nothing_reads():
    unknown = set(env_example_variables()) - settings_variables() - COMPOSE_ONLY
    assert not unknown, f"no setting reads: {sorted(unknown)}"
