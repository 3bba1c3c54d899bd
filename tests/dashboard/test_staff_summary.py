"""The staff summary: counts by status, queue depths, recent failures, processing times."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import selectors
from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def test_a_member_gets_a_dashboard_page_saying_it_is_for_staff(client, member):
    client.force_login(member.user)

    response = client.get(reverse("dashboard:staff-summary"))

    # Not the admin's login: a page in the dashboard's look with a way back.
    assert response.status_code == 403
    html = response.content.decode()
    assert "This page is for staff only" in html
    assert f'href="{reverse("dashboard:jobs")}"' in html
    assert "Jobs by status" not in html
    assert client.get(reverse("dashboard:live-staff")).status_code == 403


def test_a_stranger_logs_in_on_the_dashboards_page(client):
    response = client.get(reverse("dashboard:staff-summary"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_the_summary_updates_by_itself(member, admin_client):
    job_for(member, status=Job.Status.PROCESSING)
    page = admin_client.get(reverse("dashboard:staff-summary")).content.decode()
    assert f'data-live="{reverse("dashboard:live-staff")}"' in page
    assert "js/live.js" in page

    job_for(member, status=Job.Status.FAILED, error_message="The API went away.")
    Job.objects.filter(status=Job.Status.FAILED).update(completed_at=timezone.now())
    body = admin_client.get(reverse("dashboard:live-staff")).json()

    assert body["active"] is True
    assert "The API went away." in body["html"]


def test_counts_failures_and_times(member, admin_client):
    now = timezone.now()
    for seconds in (10, 20, 30, 40):
        job = job_for(member, done=True)
        Job.objects.filter(pk=job.pk).update(
            created_at=now - timedelta(seconds=seconds), completed_at=now
        )
    job_for(member, status=Job.Status.FAILED, error_message="No face found.", completed_at=now)
    job_for(member, status=Job.Status.FAILED, error_message="No face found.", completed_at=now)
    old = now - timedelta(days=2)
    job_for(member, status=Job.Status.FAILED, error_message="Long ago.", completed_at=old)
    job_for(member, status=Job.Status.PROCESSING)

    html = admin_client.get(reverse("dashboard:staff-summary")).content.decode()

    assert "Jobs by status" in html
    assert "No face found." in html and "Long ago." not in html
    assert "25.0 s" in html  # the mean of 10, 20, 30, 40
    assert "40.0 s" in html  # their p95
    counts = {c.status: c.count for c in selectors.status_counts()}
    assert counts == {
        "pending": 0,
        "waiting": 0,
        "submitted": 0,
        "processing": 1,
        "downloading": 0,
        "completed": 4,
        "failed": 3,
        "cancelled": 0,
    }


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert selectors.percentile(values, 95) == 95.0
    assert selectors.percentile([3.0], 95) == 3.0


def test_queue_depth_counts_waiting_messages_on_this_runs_broker():
    from kombu import Queue

    from config.celery import app, queue_depth

    # A queue of its own: a worker started by another test consumes `default`.
    name = f"depth-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, routing_key=name)
    assert queue_depth(name) == 0

    with app.connection_for_write() as connection:
        producer = app.amqp.Producer(connection)
        for n in range(3):
            producer.publish({"n": n}, routing_key=name, exchange="", declare=[queue])
    try:
        assert queue_depth(name) == 3
        assert queue_depth("enhance") is not None
    finally:
        with app.connection_for_write() as connection:
            queue(connection.default_channel).purge()


def test_queued_and_enhancing_are_counted_in_the_words_of_the_other_pages(
    member, admin_client, client
):
    job_for(member, "a.jpg", status=Job.Status.SUBMITTED, process_id=uuid.uuid4())
    job_for(member, "b.jpg", status=Job.Status.SUBMITTED, process_id=uuid.uuid4())
    job_for(member, "c.jpg", status=Job.Status.PROCESSING, progress=40)

    html = admin_client.get(reverse("dashboard:staff-summary")).content.decode()

    def count(label: str) -> int:
        row = html[html.index(f">{label}</a></td>") :]
        return int(row[row.index('class="num">') + len('class="num">') : row.index("</td></tr>")])

    assert count("Queued") == 2
    assert count("Enhancing") == 1
    assert count("Done") == 0
    # My jobs says the same words for the same jobs.
    client.force_login(member.user)
    mine = client.get(reverse("dashboard:jobs")).content.decode()
    assert mine.count(">Queued</span>") == 2 and mine.count(">Enhancing</span>") == 1


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_the_summary_updates_by_itself(chromium, live_server, member, admin_user):
    from playwright.sync_api import expect

    from tests.dashboard.browser import log_in, screenshot

    job_for(member, "running.jpg", status=Job.Status.PROCESSING)  # active: polls every 5 s
    admin_user.set_password("pw-admin-123")
    admin_user.save()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, admin_user.username, "pw-admin-123")
        page.goto(f"{live_server.url}{reverse('dashboard:staff-summary')}")
        expect(page.get_by_role("heading", name="Jobs by status")).to_be_visible()
        expect(page.get_by_text("No failures in the last 24 hours.")).to_be_visible()

        job_for(
            member,
            "broken.jpg",
            status=Job.Status.FAILED,
            error_message="The API went away.",
            completed_at=timezone.now(),
        )

        expect(page.get_by_text("The API went away.").first).to_be_visible(timeout=20_000)
        screenshot(page, "staff-summary-live-1280")
    finally:
        page.close()
