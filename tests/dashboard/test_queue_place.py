"""Queued jobs show their place in line and an estimate from recent durations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.job_lists import QueueSpot, ordinal
from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def _finished(member, seconds: list[int]) -> None:
    now = timezone.now()
    for s in seconds:
        job = job_for(member, "old.jpg", done=True)
        Job.objects.filter(pk=job.pk).update(
            created_at=now - timedelta(seconds=s), completed_at=now
        )


def _queued(membership, name: str, minutes_ago: int) -> Job:
    job = job_for(membership, name, status=Job.Status.SUBMITTED)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return job


def test_the_line_counts_every_member_and_the_estimate_is_the_median(
    member_client, member, teammate
):
    _finished(member, [50, 60, 70, 600])  # median 65 s
    _queued(teammate, "daves-first.jpg", 30)
    _queued(member, "mine-second.jpg", 20)
    _queued(teammate, "daves-third.jpg", 10)
    mine = _queued(member, "mine-fourth.jpg", 5)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert "2nd in line, about 2 min" in html  # 2 x 65 s
    assert "4th in line, about 4 min" in html  # 4 x 65 s
    page = member_client.get(reverse("dashboard:job", args=[mine.pk])).content.decode()
    assert "Queued" in page and "4th in line, about 4 min" in page


def test_running_jobs_have_no_place_and_without_history_no_estimate(member_client, member):
    job_for(member, "running.jpg", status=Job.Status.PROCESSING, progress=30)
    _queued(member, "next.jpg", 1)

    html = member_client.get(reverse("dashboard:jobs")).content.decode()

    assert html.count("in line") == 1
    assert '<span class="queue-spot">1st in line</span>' in html


def test_the_list_costs_the_same_queries_for_3_or_20_queued_jobs(
    member_client, member, django_assert_max_num_queries
):
    _finished(member, [60])
    for n in range(3):
        _queued(member, f"q{n}.jpg", 60 - n)
    with django_assert_max_num_queries(40) as three:
        member_client.get(reverse("dashboard:jobs"))
    for n in range(17):
        _queued(member, f"r{n}.jpg", 30 - n)
    with django_assert_max_num_queries(len(three.captured_queries)):
        member_client.get(reverse("dashboard:jobs"))


def test_the_words():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
    ]  # fmt: skip
    assert QueueSpot(3, 20).words == "3rd in line, less than a minute"
    assert QueueSpot(1, None).words == "1st in line"
