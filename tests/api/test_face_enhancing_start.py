"""POST /api/v1/Image/FaceEnhancing/AdCreative (multipart/form-data)"""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState
from enhancer.notifications.services import channel_create
from tests.api.conftest import Sent
from tests.api.face_enhancing_support import (
    START_URL,
    image_bytes,
    media_files,
    start_form,
    uploaded,
)

pytestmark = pytest.mark.usefixtures("media", "channel_optional")

USER = "9c1b7f0e-4a3d-4e55-8f1f-2b6f3c9d8a71"


def _post(client, headers, form, **extra):
    return client.post(START_URL, form, headers={**headers, **extra})


def test_an_upload_starts_a_queued_process(
    client, alice, alice_headers, enqueued, django_capture_on_commit_callbacks
):
    content = image_bytes(128)
    form = start_form(
        alice.application,
        userId=USER,
        ariaRatio="0.25",
        maxFaceCount="3",
        uploadedImage=uploaded(content, name="My Portrait.jpg"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, alice_headers, form)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    process = FaceEnhancerProcess.objects.get()
    task = process.render_tasks.get()
    assert body["imageFaceEnhancerProcessId"] == str(process.id)
    assert body["taskId"] == str(task.id)
    assert body["applicationId"] == str(alice.application.id)
    assert body["userId"] == USER
    assert body["status"] == "Queued"
    assert body["progress"] == 0
    assert body["parameters"] == {"ariaRatio": 0.25, "maxFaceCount": 3}
    assert body["createdAt"]
    assert body["errorMessage"] is None
    assert body["uploadedImage"] == {
        "fileName": "My_Portrait.jpg",
        "format": "JPEG",
        "width": 128,
        "height": 128,
        "size": len(content),
    }
    assert body["renderTasks"] == [
        {
            "taskId": str(task.id),
            "renderState": RenderState.QUEUED,
            "renderStateName": "Queued",
            "contentType": None,
            "size": None,
            "previewSize": None,
            "width": None,
            "height": None,
            "createdAt": body["renderTasks"][0]["createdAt"],
            "updatedAt": body["renderTasks"][0]["updatedAt"],
            "completedAt": None,
        }
    ]
    # The upload is in media storage, byte for byte, and the process is queued once.
    with process.upload.open("rb") as stored:
        assert stored.read() == content
    assert enqueued == [Sent("enhancer.process_enhance", [str(process.id)], "enhance")]


def test_nothing_is_enqueued_before_the_transaction_commits(
    client, alice_headers, alice, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(client, alice_headers, start_form(alice.application))
    assert response.status_code == 200
    assert enqueued == []
    assert len(callbacks) == 1


def test_ariaratio_and_maxfacecount_have_the_seed_defaults(client, alice, alice_headers):
    response = _post(client, alice_headers, start_form(alice.application))
    assert response.status_code == 200
    assert response.json()["parameters"] == {"ariaRatio": 0.5, "maxFaceCount": 10}


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "portrait.png"), ("WEBP", "portrait.webp"), ("JPEG", "noext")]
)
def test_png_and_webp_are_accepted_by_their_content(client, alice, alice_headers, fmt, name):
    # A wrong content type from the client does not matter: the bytes decide.
    upload = SimpleUploadedFile(name, image_bytes(64, fmt), "application/octet-stream")
    response = _post(client, alice_headers, start_form(alice.application, uploadedImage=upload))
    assert response.status_code == 200, response.content
    assert response.json()["uploadedImage"]["format"] == fmt


def _animated_png() -> bytes:
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header announcing width x height pixels, with almost no data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "GIF")
    return buffer.getvalue()


BAD_FIELDS = [
    ({"applicationId": None}, "applicationId"),
    ({"applicationId": "not-a-guid"}, "applicationId"),
    ({"userId": None}, "userId"),
    ({"userId": "1234"}, "userId"),
    ({"userId": ""}, "userId"),
    ({"ariaRatio": "-0.1"}, "ariaRatio"),
    ({"ariaRatio": "1.01"}, "ariaRatio"),
    ({"ariaRatio": "half"}, "ariaRatio"),
    ({"ariaRatio": "nan"}, "ariaRatio"),
    ({"ariaRatio": "inf"}, "ariaRatio"),
    ({"maxFaceCount": "0"}, "maxFaceCount"),
    ({"maxFaceCount": "51"}, "maxFaceCount"),
    ({"maxFaceCount": "2.5"}, "maxFaceCount"),
    ({"maxFaceCount": "ten"}, "maxFaceCount"),
    ({"uploadedImage": None}, "uploadedImage"),
    # Empty is not "leave it out": refused, not read as the default.
    ({"ariaRatio": ""}, "ariaRatio"),
    ({"maxFaceCount": ""}, "maxFaceCount"),
    ({"applicationId": ""}, "applicationId"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_FIELDS)
def test_a_missing_or_invalid_field_is_400_naming_it_and_stores_nothing(
    client, alice, alice_headers, fields, field
):
    response = _post(client, alice_headers, start_form(alice.application, **fields))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "One or more errors occurred."
    assert list(body["errors"]) == [field]
    assert body["extensions"]["traceId"]
    assert FaceEnhancerProcess.objects.count() == 0
    assert media_files() == []


def test_an_empty_aria_ratio_is_400_not_the_default(client, alice, alice_headers):
    response = _post(client, alice_headers, start_form(alice.application, ariaRatio=""))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "ariaRatio": ["Must not be empty (leave ariaRatio out instead)."]
    }
    assert FaceEnhancerProcess.objects.count() == 0


def test_a_repeated_field_is_400_not_the_last_value(client, alice, alice_headers):
    form = start_form(alice.application, userId=[str(uuid.uuid4()), str(uuid.uuid4())])

    response = _post(client, alice_headers, form)

    assert response.status_code == 400
    assert response.json()["errors"] == {"userId": ["Send userId once, not 2 times."]}
    assert FaceEnhancerProcess.objects.count() == 0


BAD_IMAGES = [
    (b"", "empty"),
    (b"hello, this is text", "not a JPEG, PNG or WebP"),
    # Cut inside the header; cut after it, the worker finds it damaged
    # (tests/api/test_upload_header_validation.py).
    (image_bytes(128)[:200], "damaged or incomplete"),
    (_gif(), "GIF"),
    (_animated_png(), "Animated"),
    (_png_claiming(100_000, 100_000), "the limit is 40.0 MP"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
]


@pytest.mark.parametrize(("content", "words"), BAD_IMAGES)
def test_a_bad_image_is_400_with_a_readable_message_and_stores_nothing(
    client, alice, alice_headers, content, words
):
    form = start_form(alice.application, uploadedImage=uploaded(content))
    response = _post(client, alice_headers, form)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["uploadedImage"]
    assert words.lower() in errors["uploadedImage"][0].lower()
    assert FaceEnhancerProcess.objects.count() == 0
    assert media_files() == []


def test_an_image_over_the_pixel_limit_is_400(client, alice, alice_headers, settings):
    settings.FACE_ENHANCER_MAX_PIXELS = 100 * 100
    response = _post(client, alice_headers, start_form(alice.application))  # 128 x 128
    assert response.status_code == 400
    assert "limit is 0.0 MP" in response.json()["errors"]["uploadedImage"][0]


def test_an_upload_over_the_size_limit_is_400_and_not_kept(client, alice, alice_headers, settings):
    settings.FACE_ENHANCING_MAX_UPLOAD_BYTES = 2048
    response = _post(client, alice_headers, start_form(alice.application))  # ~5 kB
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "uploadedImage": ["The file is larger than the limit of 0.00195312 MB."]
    }
    assert FaceEnhancerProcess.objects.count() == 0


def test_other_file_fields_are_ignored(client, alice, alice_headers):
    form = start_form(alice.application, somethingElse=uploaded(b"x" * 10_000, name="x.bin"))
    response = _post(client, alice_headers, form)
    assert response.status_code == 200
    process = FaceEnhancerProcess.objects.get()
    assert str(process.id) == response.json()["imageFaceEnhancerProcessId"]
    assert process.upload_name == "portrait.jpg"  # the uploadedImage, not x.bin


def test_a_json_body_is_400_asking_for_multipart(client, alice, alice_headers):
    response = client.post(
        START_URL,
        {"applicationId": str(alice.application.id), "userId": USER},
        content_type="application/json",
        headers=alice_headers,
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["uploadedImage"]


def test_a_malformed_multipart_body_is_400(client, alice_headers):
    response = client.post(
        START_URL,
        b"--nope\r\n\r\nbroken",
        content_type="multipart/form-data; boundary=elsewhere",
        headers=alice_headers,
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "uploadedImage" in response.json()["errors"]
    assert not FaceEnhancerProcess.objects.exists()


def test_another_applications_id_is_401(client, alice, bob, alice_headers):
    response = _post(client, alice_headers, start_form(bob.application))
    assert response.status_code == 401
    assert list(response.json()["errors"]) == ["applicationId"]
    assert FaceEnhancerProcess.objects.count() == 0


def test_without_credentials_it_is_401_and_stores_nothing(client, alice):
    response = client.post(START_URL, start_form(alice.application))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert FaceEnhancerProcess.objects.count() == 0


class TestNotificationChannel:
    """AdCreative refuses to start a job for an application without an active channel."""

    def test_no_active_channel_is_404_and_stores_nothing(
        self, client, alice, alice_headers, settings
    ):
        settings.NOTIFICATION_CHANNEL_REQUIRED = True
        response = _post(client, alice_headers, start_form(alice.application))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert "notification channel" in response.json()["detail"]
        assert FaceEnhancerProcess.objects.count() == 0

    def test_an_active_channel_lets_the_job_start(self, client, alice, alice_headers, settings):
        settings.NOTIFICATION_CHANNEL_REQUIRED = True
        channel_create(application=alice.application, url="http://127.0.0.1:9/hook")
        response = _post(client, alice_headers, start_form(alice.application))
        assert response.status_code == 200
        assert response.json()["status"] == "Queued"
        process = FaceEnhancerProcess.objects.get(pk=response.json()["imageFaceEnhancerProcessId"])
        assert process.status == ProcessStatus.QUEUED


class TestIdempotencyKey:
    def test_a_retried_post_answers_the_same_process(self, client, alice, alice_headers):
        content = image_bytes(64)
        key = {"Idempotency-Key": "order-42/attempt"}
        first = _post(
            client, alice_headers, start_form(alice.application, uploadedImage=uploaded(content))
        )
        assert first.status_code == 200
        retried = [
            _post(
                client,
                alice_headers,
                start_form(alice.application, uploadedImage=uploaded(content)),
                **key,
            )
            for _ in range(2)
        ]
        assert [r.status_code for r in retried] == [200, 200]
        assert "Idempotent-Replayed" not in retried[0]
        assert retried[1]["Idempotent-Replayed"] == "true"
        ids = {r.json()["imageFaceEnhancerProcessId"] for r in retried}
        assert len(ids) == 1
        # Without a key, every POST is a new process; with one, only the first.
        assert FaceEnhancerProcess.objects.count() == 2

    def test_keys_are_per_application(self, client, alice, bob, alice_headers, bob_headers):
        key = {"Idempotency-Key": "same"}
        a = _post(client, alice_headers, start_form(alice.application), **key)
        b = _post(client, bob_headers, start_form(bob.application), **key)
        assert a.json()["imageFaceEnhancerProcessId"] != b.json()["imageFaceEnhancerProcessId"]

    def test_the_same_key_with_another_request_is_400(self, client, alice, alice_headers):
        key = {"Idempotency-Key": "k-1"}
        first = _post(client, alice_headers, start_form(alice.application), **key)
        other = _post(client, alice_headers, start_form(alice.application, ariaRatio="0.9"), **key)
        assert other.status_code == 400
        message = other.json()["errors"]["Idempotency-Key"][0]
        assert first.json()["imageFaceEnhancerProcessId"] in message
        assert FaceEnhancerProcess.objects.count() == 1

    @pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "tab\there", "é"])
    def test_an_invalid_key_is_400(self, client, alice, alice_headers, key):
        response = _post(
            client, alice_headers, start_form(alice.application), **{"Idempotency-Key": key}
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["Idempotency-Key"]


def test_the_process_is_stored_as_answered(client, alice, alice_headers):
    response = _post(client, alice_headers, start_form(alice.application, maxFaceCount="7"))
    process = FaceEnhancerProcess.objects.get(
        pk=uuid.UUID(response.json()["imageFaceEnhancerProcessId"])
    )
    assert process.status == ProcessStatus.QUEUED
    assert process.max_face_count == 7
    assert process.attempts == 0
    assert process.application_id == alice.application.id


def test_two_files_in_uploadedimage_are_400(client, alice, alice_headers):
    form = start_form(alice.application, uploadedImage=[uploaded(), uploaded()])
    response = _post(client, alice_headers, form)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["uploadedImage"]
