"""End to end in Debian's Chromium, driven by Playwright: a member's whole day.

Log in, upload two real photos (the astronaut portrait and a two-face
collage), watch My jobs reach 100% without a reload, open the comparison,
download the result and check it is the image it should be. Everything is
real: the dashboard and the API served by live_server, a Celery worker process
running the submit, poll and download steps and the engine itself.

No browser is downloaded: the test uses /usr/bin/chromium (`apt-get install
chromium`). Without it the test is skipped, unless REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure. A failing run leaves a screenshot in
test-artifacts/ and prints its path.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from dashboard.models import ApiConnection, Job, Membership, Team
from enhancer.auth.credentials import application_create
from enhancer.models import FaceEnhancerProcess
from tests.dashboard.browser import screenshot

PASSWORD = "pw-erin-e2e-1234"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.worker,
    pytest.mark.slow,
]


@pytest.fixture
def photos(tmp_path) -> dict[str, Path]:
    """The astronaut portrait as JPEG, and two smaller copies side by side as PNG."""
    from skimage import data

    portrait = Image.fromarray(data.astronaut())  # 512x512, one face
    single = tmp_path / "astronaut.jpg"
    portrait.save(single, "JPEG", quality=92)
    half = portrait.resize((256, 256))
    collage = Image.new("RGB", (512, 256))
    collage.paste(half, (0, 0))
    collage.paste(half, (256, 0))
    pair = tmp_path / "two-astronauts.png"
    collage.save(pair, "PNG")
    return {"astronaut.jpg": single, "two-astronauts.png": pair}


@pytest.fixture
def erin(live_server, settings) -> Iterator[Membership]:
    """A member of a team whose connection is this server's own API."""
    # The API (in live_server's thread) would refuse jobs for an application
    # without a notification channel; polling is enough here.
    settings.NOTIFICATION_CHANNEL_REQUIRED = False
    issued = application_create(name="E2E application")
    connection = ApiConnection.objects.create(
        name="E2E",
        base_url=live_server.url,
        application_id=issued.application.id,
        api_key=issued.api_key,
        api_secret=issued.api_secret,
        jwt_private_key=issued.jwt_private_key,
    )
    team = Team.objects.create(name="E2E team", connection=connection)
    user = get_user_model().objects.create_user("erin", password=PASSWORD)
    membership = Membership.objects.create(team=team, user=user)
    yield membership
    # The worker process shares var/media with this one: leave nothing there.
    for job in Job.objects.filter(team=team):
        for field in (job.original, job.result, job.preview):
            if field:
                field.delete(save=False)
    for process in FaceEnhancerProcess.objects.filter(application=issued.application):
        if process.upload:
            process.upload.delete(save=False)
        for task in process.render_tasks.all():
            for field in (task.result, task.preview):
                if field:
                    field.delete(save=False)


def test_upload_two_photos_watch_them_finish_compare_and_download(
    chromium, live_server, erin, photos, celery_worker_process
):
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_default_timeout(20_000)
    try:
        _a_members_day(page, live_server.url, photos)
    except BaseException:
        path = screenshot(page, "e2e-failure")
        print(f"\nScreenshot of the failure: {path}")
        raise
    finally:
        page.close()


def _a_members_day(page, base: str, photos: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    # Log in: a stranger is sent to the login page first.
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My jobs")).to_be_visible()
    expect(page.get_by_text("No images yet")).to_be_visible()

    # Upload both photos: each is listed with its own progress bar.
    page.get_by_role("link", name="Upload", exact=True).click()
    # Until the page's load event its deferred upload.js may not listen yet, and
    # the files would be chosen unseen (a CI run on a loaded machine did that).
    page.wait_for_url(f"{base}/upload/", wait_until="load")
    page.locator("#id_images").set_input_files([str(p) for p in photos.values()])
    items = page.locator(".upload-item")
    expect(items).to_have_count(2)
    page.get_by_role("button", name="Upload and enhance").click()
    expect(page.locator("[data-upload-summary]")).to_contain_text("2 sent", timeout=30_000)
    for name in photos:
        row = items.filter(has_text=name)
        expect(row.locator("progress")).to_have_attribute("value", "100")
        expect(row).to_contain_text("Uploaded")

    # My jobs: both reach 100% and "Done" while the page stays as it is.
    page.get_by_role("link", name="Follow them on My jobs").click()
    expect(page.locator(".job-card")).to_have_count(2)
    page.evaluate("window.__sameDocument = true")
    cards = page.locator(".job-card[data-job-status=completed]")
    expect(cards).to_have_count(2, timeout=150_000)
    for card in cards.all():
        expect(card.locator("progress")).to_have_attribute("value", "100")
        expect(card.locator(".badge")).to_have_text("Done")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"

    # The job page: the comparison slider works with the keyboard.
    page.get_by_role("link", name="astronaut.jpg").click()
    expect(page.get_by_role("heading", name="astronaut.jpg")).to_be_visible()
    slider = page.locator(".compare-range")
    expect(slider).to_be_visible()
    # Both images come through the dashboard's file views, at full size.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.compare img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    for image in (page.locator(".compare-before"), page.locator(".compare-after")):
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") == 512
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert page.locator(".compare").evaluate("f => f.style.getPropertyValue('--pos')") == "60%"
    expect(page.locator(".facts")).to_contain_text("Faces enhanced")

    # Download the full-resolution result: a 512x512 image.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download full resolution").click()
    download = download_info.value
    assert download.suggested_filename.startswith("astronaut-enhanced.")
    with Image.open(io.BytesIO(Path(download.path()).read_bytes())) as result:
        result.load()
        assert result.size == (512, 512)
