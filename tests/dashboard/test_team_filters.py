"""The Team page: filters by file name, state and member, pages, and the application's
name (not its raw UUID) for members."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from dashboard.models import ApiConnection, Membership
from enhancer.models import ProcessStatus
from tests.api.face_enhancing_support import make_process
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_team(team, live_server, settings, tmp_path):
    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    ApiConnection.objects.filter(pk=team.connection_id).update(base_url=live_server.url)
    team.connection.refresh_from_db()
    return team


def _rows(html: str) -> int:
    return len(re.findall(r'<tr class="row-', html))


def test_filters_by_name_state_and_member_and_the_live_poll_keeps_them(
    api_team, member, member_client, alice, teammate
):
    dave = teammate
    for who, name, status in (
        (member, "alice-beach.jpg", ProcessStatus.COMPLETED),
        (dave, "dave-beach.jpg", ProcessStatus.COMPLETED),
        (dave, "dave-office.jpg", ProcessStatus.FAILED),
    ):
        process = make_process(alice.application, user_id=who.user_guid, status=status)
        job_for(who, name, process_id=process.id)
    make_process(alice.application, upload_name="theirs-beach.jpg", status=ProcessStatus.QUEUED)
    url = reverse("dashboard:team")

    assert _rows(member_client.get(url).content.decode()) == 4
    html = member_client.get(url, {"q": "beach"}).content.decode()
    assert _rows(html) == 3 and "dave-office.jpg" not in html
    html = member_client.get(url, {"member": "dave"}).content.decode()
    assert _rows(html) == 2 and "alice-beach.jpg" not in html
    html = member_client.get(url, {"member": "dave", "state": "failed"}).content.decode()
    assert _rows(html) == 1 and "dave-office.jpg" in html
    assert f'data-live="{reverse("dashboard:live-team")}?state=failed&amp;member=dave"' in html
    body = member_client.get(reverse("dashboard:live-team"), {"q": "theirs"}).json()
    assert _rows(body["html"]) == 1 and "theirs-beach.jpg" in body["html"]
    html = member_client.get(url, {"q": "nothing-like-it"}).content.decode()
    assert "No process matches" in html


def test_members_see_the_applications_name_staff_its_id(api_team, member, member_client, client):
    application_id = str(api_team.connection.application_id)

    html = member_client.get(reverse("dashboard:team")).content.decode()
    assert "Alpha connection" in html and application_id not in html

    staff = get_user_model().objects.create_user("sam", is_staff=True)
    Membership.objects.create(team=api_team, user=staff)
    client.force_login(staff)
    assert application_id in client.get(reverse("dashboard:team")).content.decode()
