"""One webhook channel per API connection, however many first uploads start at once.

The dashboard's submissions run in threads of this process against the API
served by the live server (real HTTP, real channels); only the enhancement's
message to the broker is recorded instead of sent, since no image is enhanced.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from dashboard import job_steps
from dashboard.models import ApiConnection, Job
from dashboard.notification_channel import receiver_url
from enhancer.notifications.models import NotificationChannel
from enhancer.notifications.services import channel_create
from tests.dashboard.factories import job_for
from tests.people import credential_headers

pytestmark = pytest.mark.django_db(transaction=True)


def _channels_at_the_api(live_server, alice) -> list[dict]:
    response = requests.get(
        f"{live_server.url}/api/v1/NotificationChannel",
        params={"applicationId": str(alice.application.id)},
        headers=credential_headers(alice),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _submit_together(jobs: list[Job]) -> list[BaseException]:
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def submit(job: Job) -> None:
        from django.db import connection

        try:
            start.wait()
            job_steps.job_submit(job_id=job.pk)
        except BaseException as e:  # a thread cannot raise into the test: reported
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_twenty_first_uploads_at_once_register_one_channel_whose_secret_we_hold(
    live_api_membership, live_server, alice, enhancements_sent
):
    jobs = [job_for(live_api_membership, f"photo-{i}.jpg") for i in range(20)]

    errors = _submit_together(jobs)

    assert errors == []
    connection = ApiConnection.objects.get(pk=live_api_membership.team.connection_id)
    channels = _channels_at_the_api(live_server, alice)
    assert [c["notificationChannelId"] for c in channels] == [
        str(connection.notification_channel_id)
    ]
    assert channels[0]["url"] == receiver_url(connection)
    assert channels[0]["isActive"] is True
    stored = NotificationChannel.objects.get(application=alice.application)
    assert connection.webhook_secret == stored.signing_secret
    assert connection.webhook_claimed_at is None
    # Every upload went on to the API, which starts jobs only with a channel.
    # (A worker of the run may be following them already: only the process ids are sure.)
    process_ids = set(Job.objects.values_list("process_id", flat=True))
    assert len(process_ids) == 20 and None not in process_ids
    assert len(enhancements_sent) == 20


def test_a_channel_left_by_a_worker_that_died_is_deleted_and_its_claim_taken_over(
    live_api_membership, live_server, alice, enhancements_sent
):
    connection = live_api_membership.team.connection
    # A worker claimed the registration, created a channel at the API and died
    # before storing it: we hold no secret for that one.
    stray = channel_create(application=alice.application, url=receiver_url(connection))
    ApiConnection.objects.filter(pk=connection.pk).update(
        webhook_claimed_at=timezone.now() - timedelta(minutes=10)
    )
    job = job_for(live_api_membership)

    assert job_steps.job_submit(job_id=job.pk)

    connection.refresh_from_db()
    channels = _channels_at_the_api(live_server, alice)
    assert [c["notificationChannelId"] for c in channels] == [
        str(connection.notification_channel_id)
    ]
    assert connection.notification_channel_id != stray.pk
    assert connection.webhook_secret == NotificationChannel.objects.get().signing_secret
