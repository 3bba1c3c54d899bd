"""The Team page: the application's processes from the real API, joined with our jobs."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboard.client import FaceEnhancerClient
from dashboard.models import ApiConnection, Job
from enhancer.models import ProcessStatus
from tests.api.face_enhancing_support import make_process
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def api_team(team, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ApiConnection.objects.filter(pk=team.connection_id).update(base_url=live_server.url)
    team.connection.refresh_from_db()
    return team


def test_processes_are_joined_with_the_teams_jobs_and_others_are_marked(
    api_team, member, member_client, alice
):
    ours = make_process(alice.application, user_id=member.user_guid, status=ProcessStatus.COMPLETED)
    job = job_for(member, "ours.jpg", done=True, process_id=ours.id)
    make_process(alice.application, upload_name="theirs.jpg", status=ProcessStatus.PROCESSING)
    make_process(alice.application, status=ProcessStatus.FAILED, error_message="No face found.")

    html = member_client.get(reverse("dashboard:team")).content.decode()

    assert f'href="{reverse("dashboard:job", args=[job.pk])}">ours.jpg</a>' in html
    assert "theirs.jpg" in html
    assert html.count("Other client") == 2  # the processing one and the failed one
    assert "No face found." in html
    assert "alice" in html


def test_an_application_without_processes_shows_the_empty_state(api_team, member_client):
    html = member_client.get(reverse("dashboard:team")).content.decode()

    assert "No processes yet" in html
    assert "can't be reached" not in html


def test_jobs_not_yet_sent_are_listed_too(api_team, member, member_client):
    job_for(member, "waiting.jpg")

    html = member_client.get(reverse("dashboard:team")).content.decode()

    assert "waiting.jpg" in html and "Waiting to be sent" in html


def test_an_unreachable_api_shows_the_error_state_quickly(team, member_client):
    # The team's connection points at a closed port (the discard port).
    started = time.monotonic()
    response = member_client.get(reverse("dashboard:team"))

    assert response.status_code == 200
    assert b"The Face Enhancer API can't be reached right now" in response.content
    assert time.monotonic() - started < 5


def test_refused_credentials_show_the_apis_message(api_team, member_client):
    ApiConnection.objects.filter(pk=api_team.connection_id).update(jwt_private_key="wrong")

    html = member_client.get(reverse("dashboard:team")).content.decode()

    assert "refused to list the processes" in html
    assert "jwtPrivateKey" in html


def test_the_live_endpoint_sends_the_fragment_only_when_it_changed(
    api_team, member, member_client, alice
):
    first = member_client.get(reverse("dashboard:live-team")).json()
    assert "No processes yet" in first["html"] and first["active"] is False
    assert first["interval"] > 10_000  # idle: slow

    again = member_client.get(reverse("dashboard:live-team"), {"v": first["version"]}).json()
    assert "html" not in again

    cache.clear()
    process = make_process(alice.application, status=ProcessStatus.PROCESSING)
    job_for(member, "new.jpg", process_id=process.id, status=Job.Status.PROCESSING)
    changed = member_client.get(reverse("dashboard:live-team"), {"v": first["version"]}).json()
    assert changed["version"] != first["version"] and "new.jpg" in changed["html"]
    assert changed["active"] is True and changed["interval"] < 10_000


def test_a_time_without_offset_from_a_dotnet_api_is_read_as_utc(
    team, member_client, monkeypatch, settings
):
    # .NET serialises a DateTime of Kind Unspecified without an offset; such an
    # answer used to crash the page (and the worker) instead of showing the time.
    settings.TIME_ZONE = "Europe/Paris"  # UTC+2 in May: the page shows the time converted
    body = {
        "results": [
            {
                "imageFaceEnhancerProcessId": "3f2c6d1e-9a41-4b7e-8c55-0d7e2a9b1c44",
                "status": "Processing",
                "progress": 40,
                "createdAt": "2024-05-01T10:20:30.1234567",
                "fileName": "dotnet.jpg",
            }
        ],
        "totalCount": 1,
    }
    monkeypatch.setattr(
        FaceEnhancerClient, "check_application_all_progresses", lambda self, **query: body
    )

    response = member_client.get(reverse("dashboard:team"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "dotnet.jpg" in html
    assert "1 May, 12:20" in html


def _rows(html: str) -> dict[str, str]:
    """Each table row's HTML, by the image name (or process id) it shows."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = {}
    for row in body.split("<tr")[1:]:
        for name in ("queued.jpg", "running.jpg", "blank.jpg", "portrait.jpg", "gone.jpg"):
            if name in row:
                rows[name] = row
    return rows


def test_the_apis_states_in_the_dashboards_words(team, member, member_client, monkeypatch):
    def process(name: str, **fields: object) -> dict[str, object]:
        return {"imageFaceEnhancerProcessId": str(uuid.uuid4()), "fileName": name, **fields}

    body = {
        "items": [
            process("queued.jpg", status="Queued", progress=0),
            process("running.jpg", status="Processing", progress=40),
            process("blank.jpg", status="Completed", progress=100, facesDetected=0),
            process("portrait.jpg", status="Completed", progress=100, facesDetected=2),
            process("gone.jpg", status="Failed", progress=0, errorMessage="Damaged image."),
        ],
        "totalCount": 5,
    }
    monkeypatch.setattr(
        FaceEnhancerClient, "check_application_all_progresses", lambda self, **query: body
    )

    rows = _rows(member_client.get(reverse("dashboard:team")).content.decode())

    assert '<span class="badge badge-submitted">Queued</span>' in rows["queued.jpg"]
    assert "<progress" not in rows["queued.jpg"] and "0%" not in rows["queued.jpg"]
    assert '<span class="badge badge-processing">Enhancing</span>' in rows["running.jpg"]
    assert 'value="40"' in rows["running.jpg"]
    assert '<span class="badge badge-no-face">No face found</span>' in rows["blank.jpg"]
    assert '<span class="badge badge-completed">Done</span>' in rows["portrait.jpg"]
    assert '<span class="badge badge-failed">Failed</span>' in rows["gone.jpg"]
    # The API's own words are not the dashboard's.
    for row in rows.values():
        assert ">Processing<" not in row and ">Completed<" not in row


@pytest.mark.parametrize("width", [1280, 390])
def test_in_the_browser_the_team_page_uses_the_same_words(
    chromium, live_server, team, member, monkeypatch, width
):
    from playwright.sync_api import expect

    body = {
        "items": [
            {"imageFaceEnhancerProcessId": str(uuid.uuid4()), "fileName": name, **fields}
            for name, fields in [
                ("queued.jpg", {"status": "Queued", "progress": 0}),
                ("running.jpg", {"status": "Processing", "progress": 40}),
                ("blank.jpg", {"status": "Completed", "progress": 100, "facesDetected": 0}),
            ]
        ],
        "totalCount": 3,
    }
    monkeypatch.setattr(
        FaceEnhancerClient, "check_application_all_progresses", lambda self, **query: body
    )
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url)
        page.get_by_role("link", name="Team", exact=True).click()

        def row(name: str):
            return page.locator("tbody tr").filter(has_text=name)

        expect(row("queued.jpg").locator(".badge")).to_have_text("Queued")
        expect(row("running.jpg").locator(".badge")).to_have_text("Enhancing")
        expect(row("blank.jpg").locator(".badge")).to_have_text("No face found")
        screenshot(page, f"team-states-{width}")
    finally:
        page.close()
