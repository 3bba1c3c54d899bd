"""Admin monitoring: jobs (filters, search, thumbnails, actions), teams, write-only secrets."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from dashboard.models import ApiConnection, Job, Membership
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:dashboard_job_changelist"


def test_the_job_list_shows_thumbnails_served_through_the_dashboard(member, admin_client):
    job = job_for(member, "portrait.jpg", done=True)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert "portrait.jpg" in html
    assert reverse("dashboard:job-file", args=[job.pk, "preview"]) in html


def test_filters_by_status_and_team(member, admin_client):
    job_for(member, "failed.jpg", status=Job.Status.FAILED)
    job_for(member, "running.jpg", status=Job.Status.PROCESSING)

    html = admin_client.get(reverse(CHANGELIST), {"status__exact": "failed"}).content.decode()
    assert "failed.jpg" in html and "running.jpg" not in html

    html = admin_client.get(reverse(CHANGELIST), {"team__id__exact": member.team_id}).content
    assert b"running.jpg" in html


@pytest.mark.parametrize("term", ["wanted", "alice", "PROCESS"])
def test_search_by_name_uploader_and_process_id(member, admin_client, term):
    process_id = uuid.uuid4()
    job_for(member, "wanted.jpg", process_id=process_id)
    term = str(process_id)[:13] if term == "PROCESS" else term

    html = admin_client.get(reverse(CHANGELIST), {"q": term}).content.decode()

    assert "wanted.jpg" in html


def test_retry_and_cancel_actions_go_through_the_services(
    member, admin_client, django_capture_on_commit_callbacks, submitted
):
    failed = job_for(member, status=Job.Status.FAILED)
    running = job_for(member, status=Job.Status.PROCESSING)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse(CHANGELIST),
            {"action": "retry_jobs", "_selected_action": [failed.pk, running.pk]},
        )
    failed.refresh_from_db()
    running.refresh_from_db()
    assert failed.status == Job.Status.PENDING and running.status == Job.Status.PROCESSING
    assert [args[0] for args in submitted] == [str(failed.pk)]

    admin_client.post(
        reverse(CHANGELIST), {"action": "cancel_jobs", "_selected_action": [running.pk]}
    )
    running.refresh_from_db()
    assert running.status == Job.Status.CANCELLED


def test_the_job_page_in_the_admin_is_read_only(member, admin_client):
    job = job_for(member, done=True)

    response = admin_client.get(reverse("admin:dashboard_job_change", args=[job.pk]))

    assert response.status_code == 200
    assert b'name="status"' not in response.content
    assert admin_client.get(reverse("admin:dashboard_job_add")).status_code == 403


def test_a_team_shows_its_members_inline(member, admin_client):
    html = admin_client.get(reverse("admin:dashboard_team_change", args=[member.team_id])).content

    assert b"memberships-0-user" in html and str(member.user_guid).encode() in html


def test_connection_secrets_are_never_rendered_back(team, admin_client):
    connection = team.connection

    html = admin_client.get(
        reverse("admin:dashboard_apiconnection_change", args=[connection.pk])
    ).content.decode()

    for secret in (connection.api_key, connection.api_secret, connection.jwt_private_key):
        assert secret not in html
    assert "Leave blank to keep it" in html


def test_blank_secrets_keep_the_stored_ones_and_new_values_replace_them(team, admin_client):
    connection = team.connection
    url = reverse("admin:dashboard_apiconnection_change", args=[connection.pk])
    form = {
        "name": "Renamed",
        "base_url": "https://api.example.test",
        "application_id": str(connection.application_id),
        "api_key": "",
        "api_secret": "new-secret",
        "jwt_private_key": "",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302
    stored = ApiConnection.objects.get(pk=connection.pk)
    assert stored.name == "Renamed"
    assert stored.api_key == connection.api_key
    assert stored.api_secret == "new-secret"
    assert stored.jwt_private_key == connection.jwt_private_key


def test_a_new_connection_needs_every_secret(admin_client):
    response = admin_client.post(
        reverse("admin:dashboard_apiconnection_add"),
        {"name": "New", "base_url": "", "application_id": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    assert not ApiConnection.objects.filter(name="New").exists()
    assert response.content.count(b"This field is required.") == 3


def test_the_admin_index_links_the_staff_summary(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse("dashboard:staff-summary") in html


def test_lists_show_status_and_progress_first_with_short_ids(member, admin_client, alice):
    from tests.api.face_enhancing_support import make_process

    process = make_process(alice.application)
    job = job_for(member, "portrait.jpg", status=Job.Status.SUBMITTED, process_id=process.id)
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    headers = html[html.index('id="result_list"') :].split("</thead>")[0]
    assert headers.index("column-state") < headers.index("column-progress")
    assert headers.index("column-progress") < headers.index("column-thumbnail")
    # The job's API process: its first 8 characters, linked to the process in the admin.
    process_url = reverse("admin:enhancer_faceenhancerprocess_change", args=[process.id])
    assert f'<a href="{process_url}" title="{process.id}">' in html
    assert f">{str(process.id)[:8]}</code>" in html and f">{process.id}</code>" not in html

    processes = admin_client.get(
        reverse("admin:enhancer_faceenhancerprocess_changelist")
    ).content.decode()
    headers = processes[processes.index('id="result_list"') :].split("</thead>")[0]
    assert headers.index("column-status") < headers.index("column-progress")
    assert headers.index("column-progress") < headers.index("column-process")
    assert f">{str(process.id)[:8]}</code>" in processes

    # And back: the process's page links the dashboard's job.
    page = admin_client.get(process_url).content.decode()
    assert reverse("admin:dashboard_job_change", args=[job.pk]) in page
    # The job's own admin page links its dashboard page and its process.
    page = admin_client.get(reverse("admin:dashboard_job_change", args=[job.pk])).content.decode()
    assert reverse("dashboard:job", args=[job.pk]) in page and process_url in page


def test_the_job_page_links_staff_to_the_admin_and_not_members(member, admin_user, client):
    job = job_for(member, "portrait.jpg", process_id=uuid.uuid4())
    admin_url = reverse("admin:dashboard_job_change", args=[job.pk])

    client.force_login(member.user)
    assert admin_url not in client.get(reverse("dashboard:job", args=[job.pk])).content.decode()

    Membership.objects.create(team=member.team, user=admin_user)
    client.force_login(admin_user)
    html = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert admin_url in html
    assert reverse("admin:enhancer_faceenhancerprocess_change", args=[job.process_id]) in html


def test_the_delivery_list_shows_status_first_and_links_the_process(admin_client, alice):
    from enhancer.notifications.models import DeliveryStatus, NotificationChannel, WebhookDelivery
    from tests.api.face_enhancing_support import make_process

    channel = NotificationChannel(
        application=alice.application, url="https://hooks.example.test/" + "x" * 200
    )
    channel.save()
    process = make_process(alice.application)
    WebhookDelivery.objects.create(
        channel=channel,
        webhook_id="msg_2f6c1e0b9a8d4c7e",
        message_type="ImageFaceEnhancingTaskCompleted",
        process_id=process.id,
        payload={"IsSuccessful": True},
        status=DeliveryStatus.FAILED,
        attempts=3,
    )

    html = admin_client.get(
        reverse("admin:notifications_webhookdelivery_changelist")
    ).content.decode()

    headers = html[html.index('id="result_list"') :].split("</thead>")[0]
    assert headers.index("column-status") < headers.index("column-delivery")
    assert '<code title="msg_2f6c1e0b9a8d4c7e" style="white-space:nowrap">msg_2f6c</code>' in html
    process_url = reverse("admin:enhancer_faceenhancerprocess_change", args=[process.id])
    assert f'<a href="{process_url}">' in html
    assert "max-width:16em" in html  # the long channel URL is capped, not a wide column
