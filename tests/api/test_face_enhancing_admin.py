"""The admin of face enhancing processes: filters, search, thumbnails, read-only."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from enhancer.models import FaceEnhancerProcess, ProcessStatus
from tests.api.face_enhancing_support import (
    image_bytes,
    make_process,
    media_files,
)

pytestmark = pytest.mark.usefixtures("media")

CHANGELIST = "/admin/enhancer/faceenhancerprocess/"


def _ids(response) -> set[str]:
    return {str(p.pk) for p in response.context["cl"].result_list}


def test_the_list_filters_by_status_application_and_user(admin_client, alice, bob):
    ann = uuid.uuid4()
    done = make_process(alice.application, user_id=ann, status=ProcessStatus.COMPLETED)
    queued = make_process(alice.application)
    bobs = make_process(bob.application, user_id=ann)

    everything = admin_client.get(CHANGELIST)
    completed = admin_client.get(CHANGELIST, {"status__exact": "Completed"})
    of_alice = admin_client.get(CHANGELIST, {"application__id__exact": str(alice.application.id)})
    of_ann = admin_client.get(CHANGELIST, {"user_id": str(ann)})

    assert everything.status_code == 200
    assert _ids(everything) == {str(done.pk), str(queued.pk), str(bobs.pk)}
    assert _ids(completed) == {str(done.pk)}
    assert _ids(of_alice) == {str(done.pk), str(queued.pk)}
    assert _ids(of_ann) == {str(done.pk), str(bobs.pk)}
    assert str(ann) in everything.content.decode()  # offered as a user filter


def test_search_by_process_task_or_user_id(admin_client, alice):
    wanted = make_process(alice.application)
    make_process(alice.application)
    for term in (wanted.pk, wanted.render_tasks.get().pk, wanted.user_id):
        response = admin_client.get(CHANGELIST, {"q": str(term)})
        assert str(wanted.pk) in _ids(response)
    assert _ids(admin_client.get(CHANGELIST, {"q": str(uuid.uuid4())})) == set()


def test_thumbnails_of_the_upload_and_the_result(admin_client, alice):
    process = make_process(alice.application, status=ProcessStatus.COMPLETED)
    # A real upload to make a thumbnail from.
    with process.upload.open("wb") as upload:
        upload.write(image_bytes(512))

    listing = admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(f"{CHANGELIST}{process.pk}/change/")
    thumbnail = admin_client.get(f"{CHANGELIST}{process.pk}/image/upload-thumbnail/")
    preview = admin_client.get(f"{CHANGELIST}{process.pk}/image/preview/")

    assert f"{process.pk}/image/preview/" in listing
    assert page.status_code == 200
    assert f"{process.pk}/image/upload-thumbnail/" in page.content.decode()
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 256
    assert preview.status_code == 200
    assert admin_client.get(f"{CHANGELIST}{process.pk}/image/nope/").status_code == 404


def test_images_are_for_staff_only(client, alice, charlie):
    process = make_process(alice.application, status=ProcessStatus.COMPLETED)
    response = client.get(f"{CHANGELIST}{process.pk}/image/result/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

    client.force_login(charlie)  # logged in, but not staff
    response = client.get(f"{CHANGELIST}{process.pk}/image/result/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_processes_are_read_only_and_deleting_one_deletes_its_files(
    admin_client, alice, django_capture_on_commit_callbacks
):
    process = make_process(alice.application, status=ProcessStatus.COMPLETED)
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert len(media_files()) == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}{process.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not FaceEnhancerProcess.objects.exists()
    assert media_files() == []
