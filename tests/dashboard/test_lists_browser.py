"""In Chromium: paging and filters on My jobs and the Team page, select all finished for
the ZIP, dragging on the comparison image, and the admin's process list at 1280 and 390 px."""

# ruff: noqa: RUF001 (the pages' own dashes and arrows)

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard.models import ApiConnection, Job
from enhancer.models import ProcessStatus
from tests.api.face_enhancing_support import make_process
from tests.dashboard.browser import log_in, screenshot
from tests.dashboard.factories import job_for

pytestmark = pytest.mark.django_db(transaction=True)


def _page(chromium, width: int):
    page = chromium.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    page.set_default_timeout(15_000)
    return page


def _many(member, count: int, prefix: str, **fields) -> None:
    now = timezone.now()
    for n in range(count):
        job = job_for(member, f"{prefix}-{n:02}.jpg", **fields)
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=count - n))


@pytest.mark.parametrize("width", [1280, 390])
def test_my_jobs_pages_and_filters_and_the_query_survives_a_live_update(
    chromium, live_server, member, width
):
    from playwright.sync_api import expect

    _many(member, 26, "beach", status=Job.Status.FAILED, error_message="Timed out.")
    _many(member, 3, "office", done=True)
    moving = job_for(member, "beach-moving.jpg", status=Job.Status.PROCESSING, progress=10)
    page = _page(chromium, width)
    try:
        log_in(page, live_server.url)
        cards = page.locator(".job-card")
        expect(cards).to_have_count(24)
        expect(page.get_by_text("1–24 of 30")).to_be_visible()
        screenshot(page, f"my-jobs-paged-{width}")

        page.get_by_label("File name").fill("beach")
        page.get_by_label("State").select_option(label="Failed")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("1–24 of 26")).to_be_visible()
        page.get_by_role("link", name="Older ›").click()
        expect(cards).to_have_count(2)
        expect(page).to_have_url(f"{live_server.url}/?q=beach&state=failed&page=2")
        screenshot(page, f"my-jobs-filtered-{width}")

        # A change arrives by the live poll (slow: nothing on this page is moving):
        # the page keeps its query and its page.
        Job.objects.filter(pk=moving.pk).update(
            status=Job.Status.FAILED, completed_at=timezone.now()
        )
        expect(cards).to_have_count(3, timeout=30_000)
        expect(page.get_by_text("25–27 of 27")).to_be_visible()
        expect(cards.filter(has_text="office")).to_have_count(0)
    finally:
        page.close()


def test_select_all_finished_downloads_them_in_one_zip(chromium, live_server, member):
    from playwright.sync_api import expect

    for name in ("anna.jpg", "tom.jpg", "lea.jpg"):
        job_for(member, name, done=True)
    job_for(member, "broken.jpg", status=Job.Status.FAILED)
    page = _page(chromium, 1280)
    try:
        log_in(page, live_server.url)
        page.get_by_label("Select all finished").check()
        expect(page.locator("input[data-finished]:checked")).to_have_count(3)
        expect(page.locator("input[data-failed]:checked")).to_have_count(0)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download selected as ZIP").click()
        with zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes())) as bundle:
            names = sorted(bundle.namelist())
        assert names == ["anna-enhanced.png", "lea-enhanced.png", "tom-enhanced.png"]

        page.get_by_role("button", name="Retry all failed (1)").click()
        expect(page.get_by_text("1 failed image sent again.")).to_be_visible()
    finally:
        page.close()


def test_dragging_on_the_comparison_image_moves_the_divider(chromium, live_server, member):
    from playwright.sync_api import expect

    job = job_for(member, "portrait.jpg", done=True, faces_detected=1, faces_enhanced=1)
    page = _page(chromium, 1280)
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/jobs/{job.pk}/")
        frame = page.locator(".compare-frame")
        slider = page.locator(".compare-range")
        expect(slider).to_have_value("50")
        box = frame.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=5)
        page.mouse.up()
        expect(slider).to_have_value("20")
        assert "20%" in (frame.locator("xpath=..").get_attribute("style") or "")
        # The keyboard still works, on the same slider.
        slider.focus()
        page.keyboard.press("ArrowRight")
        expect(slider).to_have_value("21")
        expect(slider).to_have_attribute("aria-valuetext", "21% original, 79% enhanced")
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_team_page_filters_by_member_and_names_the_application(
    chromium, live_server, member, teammate, alice, settings, tmp_path, width
):
    from playwright.sync_api import expect

    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    ApiConnection.objects.filter(pk=member.team.connection_id).update(base_url=live_server.url)
    for who, name in ((member, "alices.jpg"), (teammate, "daves.jpg")):
        process = make_process(
            alice.application, user_id=who.user_guid, status=ProcessStatus.COMPLETED
        )
        job_for(who, name, done=True, process_id=process.id)
    make_process(alice.application, upload_name="theirs.jpg", status=ProcessStatus.QUEUED)
    page = _page(chromium, width)
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/team/")
        expect(page.get_by_text("Alpha connection")).to_be_visible()
        expect(page.get_by_text(str(member.team.connection.application_id))).to_have_count(0)
        rows = page.locator(".team-table tbody tr")
        expect(rows).to_have_count(3)
        page.get_by_label("Member").select_option("dave")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("daves.jpg")
        screenshot(page, f"team-filtered-{width}")
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_process_list_shows_status_and_progress_first(
    chromium, live_server, alice, admin_user, member, width
):
    from playwright.sync_api import expect

    for status in (ProcessStatus.QUEUED, ProcessStatus.PROCESSING, ProcessStatus.COMPLETED):
        process = make_process(alice.application, status=status)
        job_for(member, f"{status.lower()}-portrait.jpg", process_id=process.id)
    admin_user.set_password("pw-admin-123")
    admin_user.save()
    page = _page(chromium, width)
    try:
        log_in(page, live_server.url, admin_user.username, "pw-admin-123")
        page.goto(f"{live_server.url}/admin/enhancer/faceenhancerprocess/")
        headers = page.locator("#result_list thead th").all_inner_texts()
        assert [h.split()[-1].lower() for h in headers[1:4]] == ["status", "progress", "process"]
        first_id = page.locator("#result_list tbody tr").first.locator("td code, th code").first
        expect(first_id).to_have_text(first_id.get_attribute("title")[:8])
        if width == 1280:
            # One line per id, and the progress column in view without scrolling sideways.
            id_box = first_id.bounding_box()
            assert id_box is not None and id_box["height"] < 30
            progress = page.locator("#result_list thead th.column-progress").bounding_box()
            assert progress is not None and progress["x"] + progress["width"] <= 1280
        screenshot(page, f"admin-processes-{width}")

        page.goto(f"{live_server.url}/admin/dashboard/job/")
        headers = page.locator("#result_list thead th").all_inner_texts()
        assert [h.split()[-1].lower() for h in headers[1:3]] == ["status", "progress"]
        if width == 1280:
            status = page.locator("#result_list thead th.column-state").bounding_box()
            assert status is not None and status["x"] + status["width"] <= 1280
        screenshot(page, f"admin-jobs-{width}")
    finally:
        page.close()
