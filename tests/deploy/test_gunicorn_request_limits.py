"""Over-long request lines and headers through the real gunicorn of `make run` and compose.

gunicorn refuses them with an HTML page before Django runs unless its limits
are raised; the web program's flags raise them so that Django answers with
problem details (issue 12). The server here is started with the very command
of config/supervisor.py's web program, and compose's web command is checked
to carry the same flags.
"""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.deploy.compose import command_line, compose
from tests.deploy.conftest import web_command

LIMIT_FLAGS = ["--limit-request-line", "0", "--limit-request-field_size", "65536"]


def test_the_web_programs_raise_gunicorns_limits():
    command = web_command(Path("/tmp"))
    assert " ".join(LIMIT_FLAGS) in " ".join(command)
    web = command_line(compose()["services"]["web"])
    assert re.search(r"--limit-request-line 0 --limit-request-field_size 65536\b", web), web


def test_a_100_kb_query_string_is_a_414_problem(gunicorn):
    response = requests.get(
        f"{gunicorn.url}/api/v1/FaceEnhancing/CheckUserProgress",
        params={"userId": "u" * 100_000},
        timeout=30,
    )
    assert response.status_code == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 414
    assert problem["title"] == "URI Too Long"
    assert list(problem["errors"]) == ["userId"]
    assert problem["instance"] == "/api/v1/FaceEnhancing/CheckUserProgress"


def test_an_over_long_path_is_a_414_problem_naming_the_path(gunicorn):
    response = requests.get(f"{gunicorn.url}/api/{'x' * 9000}", timeout=30)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["path"]


def test_a_20_kb_header_is_a_431_problem_naming_it(gunicorn):
    response = requests.get(
        f"{gunicorn.url}/api/v1/FaceEnhancing/CheckUserProgress",
        headers={"X-Api-Key": "k" * 20_000},
        timeout=30,
    )
    assert response.status_code == 431
    assert response.headers["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["X-Api-Key"]


def test_outside_the_api_the_refusal_is_plain_text(gunicorn):
    response = requests.get(f"{gunicorn.url}/", params={"q": "q" * 20_000}, timeout=30)
    assert response.status_code == 414
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "<html" not in response.text.lower()
