"""GET /api/v1/Image/FaceEnhancing/Download

?applicationId=&taskId=&imageFaceEnhancerProcessId=&lowResolution=
"""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from enhancer.models import ProcessStatus
from tests.api.face_enhancing_support import (
    DOWNLOAD_URL,
    START_URL,
    USER_PROGRESS_URL,
    image_bytes,
    make_process,
    start_form,
    uploaded,
    wait_for_status,
)


def _query(process, **extra):
    return {
        "applicationId": str(process.application_id),
        "taskId": str(process.render_tasks.get().id),
        "imageFaceEnhancerProcessId": str(process.id),
        **extra,
    }


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.usefixtures("media")
class TestDownload:
    def test_the_result_is_streamed_with_its_type_length_and_name(
        self, client, alice, alice_headers
    ):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        task = process.render_tasks.get()

        response = client.get(DOWNLOAD_URL, _query(process), headers=alice_headers)

        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'attachment; filename="portrait-enhanced.png"'
        content = _content(response)
        assert int(response["Content-Length"]) == len(content) == task.size
        assert Image.open(io.BytesIO(content)).size == (96, 64)

    @pytest.mark.parametrize("value", ["true", "True", "1"])
    def test_low_resolution_is_the_jpeg_preview(self, client, alice, alice_headers, value):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)

        response = client.get(
            DOWNLOAD_URL, _query(process, lowResolution=value), headers=alice_headers
        )

        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Content-Disposition"] == (
            'attachment; filename="portrait-enhanced-preview.jpg"'
        )
        content = _content(response)
        assert int(response["Content-Length"]) == len(content)
        assert Image.open(io.BytesIO(content)).format == "JPEG"

    @pytest.mark.parametrize("value", ["false", "0"])
    def test_low_resolution_false_or_empty_is_the_result(self, client, alice, alice_headers, value):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        response = client.get(
            DOWNLOAD_URL, _query(process, lowResolution=value), headers=alice_headers
        )
        assert response["Content-Type"] == "image/png"

    def test_a_non_ascii_file_name_is_encoded(self, client, alice, alice_headers):
        process = make_process(
            alice.application, status=ProcessStatus.COMPLETED, upload_name="Portrét.jpg"
        )
        response = client.get(DOWNLOAD_URL, _query(process), headers=alice_headers)
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''Portr%C3%A9t-enhanced.png"
        )

    @pytest.mark.parametrize(
        "status", [ProcessStatus.QUEUED, ProcessStatus.PROCESSING, ProcessStatus.FAILED]
    )
    def test_no_content_yet_is_404(self, client, alice, alice_headers, status):
        process = make_process(alice.application, status=status)
        response = client.get(DOWNLOAD_URL, _query(process), headers=alice_headers)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert status in response.json()["detail"]

    def test_ids_that_do_not_belong_together_are_404(self, client, alice, alice_headers):
        one = make_process(alice.application, status=ProcessStatus.COMPLETED)
        other = make_process(alice.application, status=ProcessStatus.COMPLETED)
        mixed = [
            _query(one, taskId=str(other.render_tasks.get().id)),
            _query(one, imageFaceEnhancerProcessId=str(other.id)),
            _query(one, taskId=str(uuid.uuid4())),
            _query(one, imageFaceEnhancerProcessId=str(uuid.uuid4())),
        ]
        for query in mixed:
            response = client.get(DOWNLOAD_URL, query, headers=alice_headers)
            assert response.status_code == 404, query
            # A problem, never one of the two images.
            assert response["Content-Type"] == "application/problem+json", query
            assert response.json()["title"] == "Not Found", query

    def test_a_result_missing_from_storage_is_404(self, client, alice, alice_headers):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        process.render_tasks.get().result.delete(save=False)
        response = client.get(DOWNLOAD_URL, _query(process), headers=alice_headers)
        assert response.status_code == 404
        assert response.json()["detail"] == "The image is no longer stored on the server."

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"applicationId": None}, "applicationId"),
            ({"applicationId": "x"}, "applicationId"),
            ({"taskId": None}, "taskId"),
            ({"taskId": "165ce0c4-27a4-4317-a388"}, "taskId"),
            ({"imageFaceEnhancerProcessId": None}, "imageFaceEnhancerProcessId"),
            ({"imageFaceEnhancerProcessId": "{}"}, "imageFaceEnhancerProcessId"),
            ({"lowResolution": "maybe"}, "lowResolution"),
            # Empty is refused rather than read as the default (false).
            ({"lowResolution": ""}, "lowResolution"),
        ],
    )
    def test_missing_or_invalid_parameters_are_400_naming_them(
        self, client, alice, alice_headers, change, field
    ):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        query = {k: v for k, v in {**_query(process), **change}.items() if v is not None}
        response = client.get(DOWNLOAD_URL, query, headers=alice_headers)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert list(response.json()["errors"]) == [field]

    def test_without_credentials_it_is_401(self, client, alice):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        response = client.get(DOWNLOAD_URL, _query(process))
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == (
            "The Authorization header with a Bearer token is missing."
        )

    def test_an_image_accept_header_is_fine(self, client, alice, alice_headers):
        process = make_process(alice.application, status=ProcessStatus.COMPLETED)
        headers = {**alice_headers, "Accept": "image/png"}
        assert client.get(DOWNLOAD_URL, _query(process), headers=headers).status_code == 200
        missing = _query(process, taskId=str(uuid.uuid4()))
        response = client.get(DOWNLOAD_URL, missing, headers=headers)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker_process", "shared_media", "channel_optional")
def test_upload_then_completed_then_download_with_a_real_worker(client, alice, alice_headers):
    """The whole path a client takes, through a real `celery worker` on this run's broker."""
    side = 640  # larger than the 512-pixel preview
    content = image_bytes(side, "PNG")
    form = start_form(alice.application, uploadedImage=uploaded(content, name="astronaut.png"))

    started = client.post(START_URL, form, headers=alice_headers)
    assert started.status_code == 200, started.content
    body = started.json()

    process = wait_for_status(body["imageFaceEnhancerProcessId"], {"Completed", "Failed"})
    assert process.status == "Completed", process.error_message

    progress = client.get(
        USER_PROGRESS_URL,
        {
            "userId": body["userId"],
            "imageFaceEnhancerProcessId": body["imageFaceEnhancerProcessId"],
        },
        headers=alice_headers,
    ).json()["items"][0]
    assert progress["progress"] == 100
    assert progress["facesDetected"] >= 1 and progress["facesEnhanced"] >= 1
    assert progress["renderTasks"][0]["renderState"] == 5

    query = {
        "applicationId": body["applicationId"],
        "taskId": body["taskId"],
        "imageFaceEnhancerProcessId": body["imageFaceEnhancerProcessId"],
    }
    full = client.get(DOWNLOAD_URL, query, headers=alice_headers)
    low = client.get(DOWNLOAD_URL, {**query, "lowResolution": "true"}, headers=alice_headers)

    assert full.status_code == low.status_code == 200
    assert full["Content-Type"] == "image/png"
    assert full["Content-Disposition"] == 'attachment; filename="astronaut-enhanced.png"'
    full_image = Image.open(io.BytesIO(_content(full)))
    full_image.load()
    assert full_image.format == "PNG"
    assert full_image.size == (side, side)
    low_bytes = _content(low)
    low_image = Image.open(io.BytesIO(low_bytes))
    assert low_image.format == "JPEG"
    assert max(low_image.size) == 512
    assert int(low["Content-Length"]) == len(low_bytes) < int(full["Content-Length"])
