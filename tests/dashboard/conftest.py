import pytest

from config.celery import app as celery_app
from enhancer.processing.enqueue import PROCESS_ENHANCE

# The API applications of tests/api serve the dashboard's tests too.
from tests.api.conftest import alice, bob  # noqa: F401
from tests.dashboard.browser import chromium  # noqa: F401 (Debian's Chromium, for browser tests)
from tests.dashboard.factories import member_of, team_for


@pytest.fixture
def live_api_membership(alice, live_server, settings, tmp_path):  # noqa: F811 (the fixture)
    """A member of a team whose connection is the live server's API, media under
    tmp_path, and the API's webhooks aimed at the live server's receiver."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DASHBOARD_PUBLIC_URL = live_server.url
    return member_of(team_for(alice, base_url=live_server.url))


@pytest.fixture
def enhancements_sent(monkeypatch) -> list[str]:
    """The processes the API sends to its `enhance` queue, recorded instead of sent:
    no image needs enhancing, and no worker of the run should take them."""
    sent: list[str] = []
    send_task = celery_app.send_task

    def record_enhancements(name, args=None, *rest, **options):
        if name != PROCESS_ENHANCE:
            return send_task(name, args, *rest, **options)  # the dashboard's own tasks
        sent.append(args[0])
        return None

    monkeypatch.setattr(celery_app, "send_task", record_enhancements)
    return sent
