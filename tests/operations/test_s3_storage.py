"""STORAGE_BACKEND=s3: uploads and results live in S3-compatible object storage.

Against a real S3 protocol server on this machine (moto's), the API stores
the upload in the bucket, processing reads it from there and stores the
result there, and Download streams it back: no code path needs a local file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import boto3
import pytest
from PIL import Image
from skimage import data

from enhancer.processing.run import process_run

BUCKET = "face-enhancer-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings) -> Iterator[object]:
    bucket = boto3.resource(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).Bucket(BUCKET)
    bucket.create()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "file_overwrite": False,
            },
        },
    }
    yield bucket
    bucket.objects.all().delete()
    bucket.delete()


def _portrait() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((192, 192)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_upload_processing_and_download_go_through_the_bucket(
    client, alice, alice_headers, s3_storage, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNEL_REQUIRED = False
    with django_capture_on_commit_callbacks(execute=False):
        started = client.post(
            "/api/v1/Image/FaceEnhancing/AdCreative",
            {
                "applicationId": str(alice.application.id),
                "userId": str(alice.application.id),
                "uploadedImage": io.BytesIO(_portrait()),
            },
            headers=alice_headers,
        )
    assert started.status_code == 200, started.content
    body = started.json()
    assert [o.key for o in s3_storage.objects.all()], "the upload is in the bucket"

    process_run(process_id=body["imageFaceEnhancerProcessId"])  # what the worker's task runs

    downloaded = client.get(
        "/api/v1/Image/FaceEnhancing/Download",
        {
            "applicationId": str(alice.application.id),
            "taskId": body["taskId"],
            "imageFaceEnhancerProcessId": body["imageFaceEnhancerProcessId"],
        },
        headers=alice_headers,
    )
    assert downloaded.status_code == 200
    image = Image.open(io.BytesIO(b"".join(downloaded.streaming_content)))
    assert image.size == (192, 192)
    assert len(list(s3_storage.objects.all())) == 3  # upload, result, preview
