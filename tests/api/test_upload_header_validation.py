"""Uploads are checked from the image's header in the web process; pixels are decoded by the worker.

The web process reads format, dimensions and frames without decoding a pixel,
so a large image costs it its bytes, not its pixels; a file whose header is
whole but whose pixels are cut short is accepted, and its process fails in
the worker with a message saying the image is damaged.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client
from PIL import Image, ImageFile

from dashboard.forms import image_problem
from enhancer.models import FaceEnhancerProcess, ProcessStatus, RenderState
from enhancer.processing.run import process_run
from tests.api.face_enhancing_support import (
    START_URL,
    USER_PROGRESS_URL,
    image_bytes,
    start_form,
    uploaded,
)

pytestmark = pytest.mark.usefixtures("media", "channel_optional")


@contextmanager
def no_decoding() -> Iterator[None]:
    """Decoding pixels in this (the web) process fails the test."""

    def load(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the web process decoded the pixels")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", load)
        yield


@pytest.fixture
def not_sent(enqueued) -> None:
    """Started processes are recorded, not sent: the worker's part is called by hand."""


def _start(client: Client, alice, headers, content: bytes, name: str = "portrait.jpg"):
    form = start_form(alice.application, uploadedImage=uploaded(content, name=name))
    with no_decoding():
        return client.post(START_URL, form, headers=headers)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_valid_image_is_accepted_without_decoding_its_pixels(
    client, alice, alice_headers, not_sent, fmt
):
    response = _start(client, alice, alice_headers, image_bytes(128, fmt), f"a.{fmt.lower()}")

    assert response.status_code == 200, response.content
    assert response.json()["uploadedImage"]["format"] == fmt
    assert (
        response.json()["uploadedImage"]["width"],
        response.json()["uploadedImage"]["height"],
    ) == (
        128,
        128,
    )


def _flat_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(
    client, alice, alice_headers, settings
):
    settings.FACE_ENHANCER_MAX_PIXELS = 2_000_000
    content = _flat_png(2000, 1001)  # a few KB that would decode to 2 MP

    response = _start(client, alice, alice_headers, content, "big.png")

    assert response.status_code == 400
    assert response.json()["errors"]["uploadedImage"] == [
        "The image is 2000x1001 pixels (2.0 MP) and the limit is 2.0 MP; "
        "reduce its dimensions and try again."
    ]
    assert FaceEnhancerProcess.objects.count() == 0


def test_a_truncated_image_passes_the_header_check_and_fails_in_the_worker(
    client, alice, alice_headers, not_sent
):
    whole = image_bytes(128)
    truncated = whole[: len(whole) // 2]  # the header and half of the pixels

    response = _start(client, alice, alice_headers, truncated)

    assert response.status_code == 200, response.content
    process_id = response.json()["imageFaceEnhancerProcessId"]
    assert response.json()["status"] == ProcessStatus.QUEUED

    process_run(process_id=uuid.UUID(process_id))  # what the worker does with the message

    body = client.get(
        USER_PROGRESS_URL,
        {"userId": response.json()["userId"], "imageFaceEnhancerProcessId": process_id},
        headers=alice_headers,
    ).json()
    item = body["items"][0]
    assert item["status"] == ProcessStatus.FAILED
    assert item["errorMessage"] == (
        "The image is damaged or incomplete (for example a partial upload); "
        "upload the complete file again."
    )
    assert item["renderTasks"][0]["renderState"] != RenderState.COMPLETED


def test_the_dashboard_form_checks_the_header_only(settings):
    settings.FACE_ENHANCER_MAX_PIXELS = 2_000_000
    whole, big = image_bytes(128), _flat_png(2000, 1001)

    with no_decoding():
        truncated = image_problem(uploaded(whole[: len(whole) // 2]))
        too_large = image_problem(uploaded(big, name="big.png"))
        header_cut = image_problem(uploaded(whole[:200]))

    assert truncated is None
    assert too_large == (
        "The image is 2000x1001 pixels (2.0 MP) and the limit is 2.0 MP; "
        "reduce its dimensions and try again."
    )
    assert "damaged or incomplete" in header_cut
