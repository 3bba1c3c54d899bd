"""The upload page: several images, validated by their bytes; refusals leave nothing behind."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dashboard.models import Job
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import image_bytes

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_page_explains_the_settings_with_the_apis_defaults(member_client, settings):
    settings.FACE_ENHANCER_MAX_FACE_COUNT = 25

    html = member_client.get(reverse("dashboard:upload")).content.decode()

    assert 'type="file"' in html and "multiple" in html
    assert 'name="aria_ratio"' in html and 'value="0.5"' in html
    assert 'min="0" max="1"' in html
    assert "How much of the area around each face is enhanced" in html
    assert 'name="max_face_count"' in html and 'value="10"' in html and 'max="25"' in html
    assert 'enctype="multipart/form-data"' in html  # works without JavaScript too


def test_a_json_upload_creates_a_job_and_enqueues_it_on_commit(
    member_client, member, django_capture_on_commit_callbacks, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("dashboard:upload"),
            {
                "images": upload("me.jpg", image_bytes()),
                "aria_ratio": "0.3",
                "max_face_count": "4",
            },
            headers=JSON,
        )

    assert response.status_code == 201
    body = response.json()
    job = Job.objects.get()
    assert body["ok"] is True and body["job"]["id"] == str(job.pk)
    assert body["job"]["url"] == reverse("dashboard:job", args=[job.pk])
    assert (job.original_name, job.aria_ratio, job.max_face_count) == ("me.jpg", 0.3, 4)
    assert job.uploader == member.user and job.user_guid == member.user_guid
    assert submitted == [(str(job.pk),)]


def test_a_plain_form_sends_several_images_and_redirects_to_my_jobs(
    member_client, django_capture_on_commit_callbacks, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("dashboard:upload"),
            {
                "images": [
                    upload("a.jpg", image_bytes()),
                    upload("b.png", image_bytes("PNG"), "image/png"),
                    upload("c.webp", image_bytes("WEBP"), "image/webp"),
                ],
                "aria_ratio": "0.5",
                "max_face_count": "10",
            },
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:jobs")
    assert sorted(Job.objects.values_list("original_name", flat=True)) == [
        "a.jpg",
        "b.png",
        "c.webp",
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.jpg", b"just some text, not a picture", "not a JPEG, PNG or WebP"),
        ("anim.gif", b"GIF89a" + b"\x00" * 40, "GIF"),
        ("empty.jpg", b"", "empty"),
        ("broken.jpg", image_bytes()[:200], "damaged or incomplete"),
    ],
)
def test_a_refused_file_leaves_nothing_behind(member_client, media_root, name, data, message):
    response = member_client.post(
        reverse("dashboard:upload"),
        {"images": upload(name, data), "aria_ratio": "0.5", "max_face_count": "10"},
        headers=JSON,
    )

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Job.objects.exists()
    assert stored_files(media_root) == []


def test_too_many_pixels_is_refused_before_decoding(member_client, settings, media_root):
    settings.FACE_ENHANCER_MAX_PIXELS = 1000

    response = member_client.post(
        reverse("dashboard:upload"),
        {
            "images": upload("big.png", image_bytes("PNG", (100, 100))),
            "aria_ratio": "0.5",
            "max_face_count": "10",
        },
        headers=JSON,
    )

    assert response.status_code == 400
    assert "100x100 pixels" in response.json()["message"]
    assert stored_files(media_root) == []


def test_too_many_bytes_is_refused(member_client, settings, media_root):
    settings.FACE_ENHANCING_MAX_UPLOAD_BYTES = 1024
    noisy = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3)).save(noisy, "PNG")

    response = member_client.post(
        reverse("dashboard:upload"),
        {
            "images": upload("big.png", noisy.getvalue()),
            "aria_ratio": "0.5",
            "max_face_count": "10",
        },
        headers=JSON,
    )

    assert response.status_code == 400
    assert "the limit is 1.0\xa0KB" in response.json()["message"]
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("aria_ratio", "1.5", "less than or equal to 1"),
        ("aria_ratio", "much", "Enter a number"),
        ("max_face_count", "0", "greater than or equal to 1"),
        ("max_face_count", "51", "less than or equal to 50"),
    ],
)
def test_parameters_out_of_range_are_refused(member_client, field, value, message):
    data = {"images": upload("me.jpg", image_bytes()), "aria_ratio": "0.5", "max_face_count": "10"}
    data[field] = value

    response = member_client.post(reverse("dashboard:upload"), data, headers=JSON)

    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert not Job.objects.exists()


def test_a_plain_form_keeps_the_good_files_and_lists_the_refused_ones(
    member_client, media_root, django_capture_on_commit_callbacks, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("dashboard:upload"),
            {
                "images": [upload("good.jpg", image_bytes()), upload("bad.jpg", b"nope")],
                "aria_ratio": "0.5",
                "max_face_count": "10",
            },
        )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Some images were not accepted" in html
    assert "<strong>bad.jpg</strong>" in html
    assert "good.jpg" in html
    assert list(Job.objects.values_list("original_name", flat=True)) == ["good.jpg"]
    assert len(stored_files(media_root)) == 1


def test_no_file_at_all_is_explained(member_client):
    response = member_client.post(
        reverse("dashboard:upload"), {"aria_ratio": "0.5", "max_face_count": "10"}
    )

    assert response.status_code == 400
    assert b"Choose at least one JPEG, PNG or WebP image." in response.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_with_many_files_the_button_and_the_summary_stay_in_view(
    chromium, live_server, member, submitted, tmp_path, width, height
):
    """25 files make the page thousands of pixels long: the button, and then the
    "25 sent" summary, stay on screen without scrolling."""
    from playwright.sync_api import expect

    files = []
    for n in range(25):
        path = tmp_path / f"photo-{n:02d}.jpg"
        path.write_bytes(image_bytes("JPEG", (64 + n, 48)))
        files.append(str(path))
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/upload/")
        page.set_input_files("#id_images", files)
        button = page.get_by_role("button", name="Upload and enhance")
        expect(button).to_be_in_viewport()
        button.click()
        summary = page.locator("[data-upload-summary]")
        expect(summary).to_contain_text("25 sent")
        expect(summary).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollHeight") > 2 * height
        assert page.evaluate("window.scrollY") == 0
    except Exception:
        print(f"screenshot: {screenshot(page, f'upload-many-{width}')}")
        raise
    finally:
        page.close()
    assert len(submitted) == 25
