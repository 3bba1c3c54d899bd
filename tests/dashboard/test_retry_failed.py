"""Retry failed jobs from My jobs, without the admin: the selected ones or all of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)
URL = reverse("dashboard:jobs-retry-failed")


def test_my_jobs_offers_retry_when_something_failed(member_client, member):
    job_for(member, "ok.jpg", done=True)
    html = member_client.get(reverse("dashboard:jobs")).content.decode()
    assert "Retry all failed" not in html

    failed = job_for(member, "bad.jpg", status=Job.Status.FAILED, error_message="Timed out.")
    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert "Retry all failed (1)" in html
    assert f'value="{failed.pk}" data-failed' in html


def test_the_selected_failed_jobs_are_sent_again(member_client, member, submitted):
    one = job_for(member, "one.jpg", status=Job.Status.FAILED)
    two = job_for(member, "two.jpg", status=Job.Status.FAILED)
    done = job_for(member, "done.jpg", done=True)

    response = member_client.post(URL, {"jobs": [str(one.pk), str(done.pk)]}, follow=True)

    assert "1 failed image sent again." in response.content.decode()
    assert Job.objects.get(pk=one.pk).status == Job.Status.PENDING
    assert Job.objects.get(pk=two.pk).status == Job.Status.FAILED
    assert Job.objects.get(pk=done.pk).status == Job.Status.COMPLETED
    assert [str(args[0]) for args in submitted] == [str(one.pk)]


def test_all_failed_jobs_of_the_member_and_no_one_elses(
    member_client, member, teammate, outsider, submitted
):
    mine = [job_for(member, f"{n}.jpg", status=Job.Status.FAILED) for n in range(3)]
    daves = job_for(teammate, "daves.jpg", status=Job.Status.FAILED)
    bobs = job_for(outsider, "bobs.jpg", status=Job.Status.FAILED)

    response = member_client.post(URL, {"all": "1", "next": "/?state=failed"})

    assert response.status_code == 302 and response["Location"] == "/?state=failed"
    assert {j.status for j in Job.objects.filter(pk__in=[j.pk for j in mine])} == {"pending"}
    assert Job.objects.get(pk=daves.pk).status == Job.Status.FAILED
    assert Job.objects.get(pk=bobs.pk).status == Job.Status.FAILED
    assert len(submitted) == 3


def test_nothing_selected_says_so(member_client, member):
    job_for(member, "bad.jpg", status=Job.Status.FAILED)

    response = member_client.post(URL, {}, follow=True)

    assert "Select at least one failed image to retry." in response.content.decode()
    assert Job.objects.get().status == Job.Status.FAILED
    assert member_client.get(URL).status_code == 405
