"""Two applications, every endpoint: Bob's credentials never reach Alice's data.

Naming Alice's application with Bob's credentials is 401 (the credentials do
not belong to it); naming Alice's processes, tasks or channels under Bob's own
application is 404 (nothing of Bob's matches), and nothing of Alice's changes.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.notifications.models import NotificationChannel
from enhancer.notifications.services import channel_create
from tests.api.face_enhancing_support import (
    APPLICATION_PROGRESS_URL,
    DOWNLOAD_URL,
    START_URL,
    USER_PROGRESS_URL,
    make_process,
    start_form,
)

pytestmark = pytest.mark.usefixtures("media", "channel_optional")

CHANNELS_URL = "/api/v1/NotificationChannel"


@pytest.fixture
def alices(alice):
    """Alice's completed process and her webhook channel."""
    process = make_process(alice.application, status=ProcessStatus.COMPLETED)
    channel = channel_create(application=alice.application, url="http://127.0.0.1:9/alice")
    return process, process.render_tasks.get(), channel


def _download_query(application_id, process, task):
    return {
        "applicationId": str(application_id),
        "imageFaceEnhancerProcessId": str(process.id),
        "taskId": str(task.id),
    }


class TestFaceEnhancing:
    def test_start_for_another_application_is_401(self, client, alice, bob_headers, alices):
        before = FaceEnhancerProcess.objects.count()
        response = client.post(START_URL, start_form(alice.application), headers=bob_headers)
        assert response.status_code == 401
        assert FaceEnhancerProcess.objects.count() == before

    def test_check_user_progress_does_not_see_another_applications_users(
        self, client, bob_headers, alices
    ):
        process, _, _ = alices
        by_user = client.get(
            USER_PROGRESS_URL, {"userId": str(process.user_id)}, headers=bob_headers
        )
        by_id = client.get(
            USER_PROGRESS_URL,
            {"userId": str(process.user_id), "imageFaceEnhancerProcessId": str(process.id)},
            headers=bob_headers,
        )
        assert by_user.status_code == by_id.status_code == 404
        assert str(process.id) not in by_user.content.decode() + by_id.content.decode()

    def test_check_user_progress_of_the_same_user_id_is_per_application(
        self, client, bob, bob_headers, alices
    ):
        process, _, _ = alices
        bobs = make_process(bob.application, user_id=process.user_id)
        body = client.get(
            USER_PROGRESS_URL, {"userId": str(process.user_id)}, headers=bob_headers
        ).json()
        assert [p["imageFaceEnhancerProcessId"] for p in body["items"]] == [str(bobs.id)]

    def test_check_application_all_progresses_of_another_application_is_401(
        self, client, alice, bob, bob_headers, alices
    ):
        make_process(bob.application)
        other = client.get(
            APPLICATION_PROGRESS_URL,
            {"applicationId": str(alice.application.id)},
            headers=bob_headers,
        )
        own = client.get(
            APPLICATION_PROGRESS_URL,
            {"applicationId": str(bob.application.id)},
            headers=bob_headers,
        )
        assert other.status_code == 401
        assert own.status_code == 200
        assert {p["applicationId"] for p in own.json()["items"]} == {str(bob.application.id)}

    def test_download_of_another_applications_result_is_401_or_404(
        self, client, alice, bob, bob_headers, alices
    ):
        process, task, _ = alices
        naming_alice = client.get(
            DOWNLOAD_URL, _download_query(alice.application.id, process, task), headers=bob_headers
        )
        under_bob = client.get(
            DOWNLOAD_URL, _download_query(bob.application.id, process, task), headers=bob_headers
        )
        assert naming_alice.status_code == 401
        assert under_bob.status_code == 404
        assert not naming_alice.streaming and not under_bob.streaming

    def test_a_token_and_keys_of_two_applications_are_401(
        self, client, alice, alice_headers, bob_headers, alices
    ):
        mixed = {**alice_headers, "x-api-key": bob_headers["x-api-key"]}
        mixed["x-api-secret"] = bob_headers["x-api-secret"]
        process, task, _ = alices
        response = client.get(
            DOWNLOAD_URL, _download_query(alice.application.id, process, task), headers=mixed
        )
        assert response.status_code == 401
        assert response.json()["detail"] == (
            "The bearer token and the API key belong to different applications."
        )

    def test_alice_still_sees_and_downloads_her_own(
        self, client, alice, alice_headers, bob_headers, alices
    ):
        process, task, _ = alices
        response = client.get(
            DOWNLOAD_URL,
            _download_query(alice.application.id, process, task),
            headers=alice_headers,
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert (image.format, image.size) == ("PNG", (96, 64))  # her result, as stored


class TestNotificationChannels:
    def test_listing_shows_only_the_callers_channels(self, client, alice, bob_headers, alices):
        for url in (CHANNELS_URL, f"{CHANNELS_URL}/Active"):
            response = client.get(url, headers=bob_headers)
            assert response.status_code == 200
            assert response.json() == []
            naming_alice = client.get(
                url, {"applicationId": str(alice.application.id)}, headers=bob_headers
            )
            assert naming_alice.status_code == 401

    def test_creating_a_channel_for_another_application_is_401(
        self, client, alice, bob_headers, alices
    ):
        response = client.post(
            CHANNELS_URL,
            {"applicationId": str(alice.application.id), "url": "http://127.0.0.1:9/bob"},
            content_type="application/json",
            headers=bob_headers,
        )
        assert response.status_code == 401
        assert NotificationChannel.objects.filter(url__endswith="/bob").count() == 0

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("get", "", None),
            ("put", "", {"url": "http://127.0.0.1:9/stolen", "type": "Webhook"}),
            ("patch", "", {"isActive": False}),
            ("delete", "", None),
            ("post", "/RotateSecret", None),
            ("get", "/Deliveries", None),
        ],
    )
    def test_another_applications_channel_is_404_and_unchanged(
        self, client, bob_headers, alices, method, suffix, body
    ):
        _, _, channel = alices
        kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
        response = getattr(client, method)(
            f"{CHANNELS_URL}/{channel.id}{suffix}", headers=bob_headers, **kwargs
        )
        assert response.status_code == 404
        after = NotificationChannel.objects.get(pk=channel.pk)
        assert (after.url, after.is_active, after.signing_secret) == (
            channel.url,
            channel.is_active,
            channel.signing_secret,
        )
