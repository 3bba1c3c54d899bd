"""The polling endpoints: small JSON, a fragment only when it changed, fast while busy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import Job
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def test_my_jobs_polls_fast_while_a_job_runs_and_slowly_when_idle(member_client, member):
    job = job_for(member, "me.jpg", status=Job.Status.PROCESSING, progress=20)

    busy = member_client.get(reverse("dashboard:live-jobs")).json()
    assert busy["active"] is True and busy["interval"] <= 2000
    assert 'value="20"' in busy["html"]

    Job.objects.filter(pk=job.pk).update(status=Job.Status.COMPLETED, progress=100)
    idle = member_client.get(reverse("dashboard:live-jobs"), {"v": busy["version"]}).json()
    assert idle["active"] is False and idle["interval"] >= 10_000
    assert idle["version"] != busy["version"] and "Done" in idle["html"]


def test_an_unchanged_fragment_is_not_sent_again(member_client, member):
    job_for(member, status=Job.Status.SUBMITTED)
    first = member_client.get(reverse("dashboard:live-jobs")).json()

    second = member_client.get(reverse("dashboard:live-jobs"), {"v": first["version"]}).json()

    assert second == {k: first[k] for k in ("version", "active", "interval")}


def test_the_page_carries_the_version_the_endpoint_answers(member_client, member):
    job_for(member, status=Job.Status.PROCESSING, progress=55)

    page = member_client.get(reverse("dashboard:jobs")).content.decode()
    live = member_client.get(reverse("dashboard:live-jobs")).json()

    assert f'data-live-version="{live["version"]}"' in page
    assert 'data-live-active="true"' in page


def test_the_job_page_version_ignores_the_csrf_token(member_client, member):
    job = job_for(member, status=Job.Status.PROCESSING, progress=10)  # has a Cancel form
    url = reverse("dashboard:live-job", args=[job.pk])

    first = member_client.get(url).json()
    second = member_client.get(url).json()

    assert "csrfmiddlewaretoken" in first["html"]
    assert first["version"] == second["version"]


def test_the_job_endpoint_shows_the_comparison_once_done(member_client, member):
    job = job_for(member, status=Job.Status.DOWNLOADING, progress=100)
    url = reverse("dashboard:live-job", args=[job.pk])
    before = member_client.get(url).json()
    assert "compare-range" not in before["html"] and before["active"] is True

    done = job_for(member, done=True)
    after = member_client.get(reverse("dashboard:live-job", args=[done.pk])).json()

    assert "compare-range" in after["html"] and after["active"] is False


def test_another_teams_job_is_not_found(client, member, outsider):
    job = job_for(member, "alices-portrait.jpg", status=Job.Status.PROCESSING, progress=30)
    client.force_login(outsider.user)

    response = client.get(reverse("dashboard:live-job", args=[job.pk]))

    assert response.status_code == 404
    assert b"This page doesn't exist" in response.content
    assert b"alices-portrait.jpg" not in response.content


def test_live_answers_are_never_cached(member_client, member):
    response = member_client.get(reverse("dashboard:live-jobs"))

    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_a_page_whose_server_stops_answering_says_so_until_it_answers_again(
    chromium, live_server, member, width
):
    from playwright.sync_api import expect

    job_for(member, "running.jpg", status=Job.Status.PROCESSING, progress=20)
    page = chromium.new_page(viewport={"width": width, "height": 800})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url)
        expect(page.get_by_role("heading", name="My jobs")).to_be_visible()
        notice = page.get_by_role("status").filter(has_text="Connection lost")
        expect(notice).to_have_count(0)

        # The server stops answering the page's polls.
        page.route("**/live/**", lambda route: route.abort())
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("retrying")
        expect(notice).to_contain_text("last updated at")
        screenshot(page, f"connection-lost-{width}", full_page=False)

        # It answers again: the notice goes, the page is current again.
        page.unroute("**/live/**")
        expect(notice).to_have_count(0, timeout=20_000)
        expect(page.locator("#live-connection")).to_be_empty()
    finally:
        page.close()
