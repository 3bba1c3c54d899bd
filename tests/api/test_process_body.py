"""The process body is built by hand for speed; it must equal what its declared fields render.

The declared fields of ImageFaceEnhancerProcessSerializer are what the OpenAPI
schema documents, so this keeps the documentation true to the answers.
"""

from __future__ import annotations

import pytest
from rest_framework import serializers

from enhancer.api.face_enhancing_serializers import (
    ImageFaceEnhancerProcessSerializer,
    process_body,
)
from enhancer.models import FaceEnhancerProcess, ProcessStatus
from enhancer.processing import selectors
from tests.api.face_enhancing_support import make_process

pytestmark = pytest.mark.usefixtures("media")


@pytest.mark.parametrize(
    "status",
    [ProcessStatus.QUEUED, ProcessStatus.PROCESSING, ProcessStatus.COMPLETED, ProcessStatus.FAILED],
)
def test_the_body_is_what_the_declared_fields_render(alice, status):
    made = make_process(alice.application, status=status, error_message="Bad image.")
    FaceEnhancerProcess.objects.filter(pk=made.pk).update(aria_ratio=0.25, faces_detected=3)
    process = selectors.process_get(application=alice.application, process_id=made.pk)

    declared = serializers.Serializer.to_representation(
        ImageFaceEnhancerProcessSerializer(), process
    )

    assert process_body(process) == declared
    assert list(process_body(process)) == list(declared)  # the same order too
