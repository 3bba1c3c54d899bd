"""My jobs carries a team's volume: pages of 24, search by file name, filter by state,
and the live poll keeps the query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.job_lists import PAGE_SIZE
from dashboard.models import Job
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db


def _jobs(member, count: int, **fields) -> list[Job]:
    """`count` jobs named photo-00.jpg..., photo-00 the oldest."""
    now = timezone.now()
    jobs = []
    for n in range(count):
        job = job_for(member, f"photo-{n:02}.jpg", **fields)
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=count - n))
        jobs.append(job)
    return jobs


def _names(html: str) -> list[str]:
    import re

    return re.findall(r'data-job-name="([^"]+)"', html)


def test_a_page_holds_24_jobs_and_links_to_the_older_ones(member_client, member):
    _jobs(member, PAGE_SIZE + 3, status=Job.Status.FAILED)

    first = member_client.get(reverse("dashboard:jobs")).content.decode()
    second = member_client.get(reverse("dashboard:jobs"), {"page": "2"}).content.decode()

    assert len(_names(first)) == PAGE_SIZE and _names(first)[0] == "photo-26.jpg"
    assert _names(second) == ["photo-02.jpg", "photo-01.jpg", "photo-00.jpg"]
    assert 'href="?page=2" rel="next"' in first
    assert "25\u201327 of 27 \u00b7 page 2 of 2" in second


def test_search_by_file_name_and_filter_by_state(member_client, member):
    job_for(member, "beach-anna.jpg", done=True)
    job_for(member, "beach-tom.jpg", status=Job.Status.FAILED)
    job_for(member, "office.jpg", done=True)
    job_for(member, "empty-room.jpg", done=True, faces_detected=0)

    html = member_client.get(reverse("dashboard:jobs"), {"q": "BEACH"}).content.decode()
    assert sorted(_names(html)) == ["beach-anna.jpg", "beach-tom.jpg"]

    done = member_client.get(reverse("dashboard:jobs"), {"state": "completed"}).content.decode()
    assert sorted(_names(done)) == ["beach-anna.jpg", "office.jpg"]

    no_face = member_client.get(reverse("dashboard:jobs"), {"state": "no-face"}).content.decode()
    assert _names(no_face) == ["empty-room.jpg"]

    both = member_client.get(reverse("dashboard:jobs"), {"q": "beach", "state": "failed"})
    assert _names(both.content.decode()) == ["beach-tom.jpg"]
    # The form shows the query back, and offers the state words of every page.
    assert 'value="beach"' in both.content.decode()
    assert '<option value="failed" selected>Failed</option>' in both.content.decode()
    assert '<option value="submitted">Queued</option>' in both.content.decode()


def test_nothing_matching_says_so_and_an_unknown_state_filters_nothing(member_client, member):
    job_for(member, "a.jpg")

    html = member_client.get(reverse("dashboard:jobs"), {"q": "zzz"}).content.decode()
    assert "No job matches" in html and "No images yet" not in html

    html = member_client.get(reverse("dashboard:jobs"), {"state": "bogus", "page": "x"})
    assert _names(html.content.decode()) == ["a.jpg"]


def test_pages_and_the_live_poll_keep_the_query(member_client, member):
    _jobs(member, PAGE_SIZE + 2, status=Job.Status.FAILED)
    job_for(member, "other.jpg", done=True)

    html = member_client.get(
        reverse("dashboard:jobs"), {"q": "photo", "state": "failed"}
    ).content.decode()
    assert 'href="?q=photo&amp;state=failed&amp;page=2"' in html
    live = reverse("dashboard:live-jobs")
    assert f'data-live="{live}?q=photo&amp;state=failed"' in html

    body = member_client.get(live, {"q": "photo", "state": "failed", "page": "2"}).json()
    assert _names(body["html"]) == ["photo-01.jpg", "photo-00.jpg"]
