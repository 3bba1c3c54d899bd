"""The four FaceEnhancing endpoints of the seed, under /api/v1/Image/FaceEnhancing/.

Views only read the request, check it belongs to the authenticated
application, and call enhancer.processing.run (writes) or enhancer.processing.selectors
(reads). Every error is a problem detail naming the field, as AdCreative's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from enhancer.api.face_enhancing_serializers import (
    CheckApplicationAllProgressesQuery,
    CheckUserProgressQuery,
    DownloadQuery,
    FaceEnhancingStartSerializer,
    ImageFaceEnhancerProcessPageSerializer,
    ImageFaceEnhancerProcessSerializer,
    page_body,
)
from enhancer.api.parameters import single_values, valid_query
from enhancer.api.problems import ProblemError, ServiceUnavailable
from enhancer.api.renderers import FastJSONRenderer
from enhancer.api.schema import CREDENTIAL_HEADERS, PROBLEM
from enhancer.api.uploads import UploadLimit, download_file_name
from enhancer.auth.authentication import ApiRequest, ApplicationAPIView, require_own_application
from enhancer.notifications.services import application_has_active_channel
from enhancer.processing import selectors
from enhancer.processing.start import IdempotencyKeyReused, QueueUnavailable, process_start

TAG = "FaceEnhancing"
IDEMPOTENCY_KEY = "Idempotency-Key"
# Printable ASCII without spaces at the ends, as the IETF draft's examples.
# The same pattern in the schema (an ECMAScript regex) and here.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$"
_IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)
# Seconds a client waits before sending an upload again when the queue is
# down: a broker restart takes seconds, and a client honouring it does not
# hammer the server meanwhile.
QUEUE_RETRY_AFTER = 10


class ApplicationAuthenticationScheme(OpenApiAuthenticationExtension):
    """The bearer token in OpenAPI; x-api-key and x-api-secret are header parameters."""

    target_class = "enhancer.auth.authentication.ApplicationAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "accessToken from POST /api/v1/Authorization/GenerateJwtToken",
        }


class AlwaysJson(DefaultContentNegotiation):
    """Answer JSON (or the file) whatever Accept says, rather than 406.

    The seed tells clients to send `Accept: application/json` even to
    Download, whose success is an image; a client sending `image/*` should
    not be refused either.
    """

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        # What every poll sends (the seed's `Accept: application/json`, or no
        # Accept at all) has one answer, the first renderer with its own media
        # type, which DRF reaches by parsing the header and ordering media types
        # on each request: 7% of a one-process read in process. Anything else
        # (parameters such as indent, other types, ?format=) is negotiated.
        accept = request.META.get("HTTP_ACCEPT")
        first = next(iter(renderers))  # DRF passes the view's list, never empty
        if (
            not format_suffix
            and not request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            and accept in (None, first.media_type)
        ):
            return first, first.media_type
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return first, first.media_type


class FaceEnhancingView(ApplicationAPIView):
    content_negotiation_class = AlwaysJson
    renderer_classes = [FastJSONRenderer]


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(PROBLEM, description=description)


UNAUTHORIZED = _problem(
    "The bearer token is missing, invalid or expired, the x-api-key or x-api-secret is "
    "wrong, or applicationId is not the application of the credentials."
)


class StartFaceEnhancingView(FaceEnhancingView):
    @extend_schema(
        operation_id="startFaceEnhancing",
        tags=[TAG],
        summary="Start a face enhancing process for an uploaded image",
        description=(
            "Validates every field and the image (its format, dimensions and frames, read "
            "from its header) before storing anything, then queues the process and answers "
            "it with status Queued; an image damaged past its header fails its process, with "
            "an errorMessage saying so, once a worker decodes it. Follow it with "
            "CheckUserProgress or the application's notification channel; download the "
            "result when status is Completed. The application needs an active notification "
            "channel unless the server is configured otherwise. When the queue is down the "
            "answer is 503 with Retry-After and nothing is stored."
        ),
        request={"multipart/form-data": FaceEnhancingStartSerializer},
        parameters=[
            *CREDENTIAL_HEADERS,
            OpenApiParameter(
                IDEMPOTENCY_KEY,
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": IDEMPOTENCY_KEY_PATTERN,
                },
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Any unique string up to 255 printable ASCII characters. A request "
                    "repeated with the same key answers the process the first one started "
                    "(with the header Idempotent-Replayed: true) instead of starting another; "
                    "the same key with a different request is a 400."
                ),
            ),
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[503],
                description="Seconds to wait before sending the request again.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                ImageFaceEnhancerProcessSerializer, description="The process, queued."
            ),
            400: _problem(
                "A field is missing or invalid; the image is missing, empty, too large, "
                "damaged or not a JPEG, PNG or WebP; or the Idempotency-Key is invalid."
            ),
            401: UNAUTHORIZED,
            404: _problem("The application has no active notification channel."),
            503: _problem(
                "The processing queue is unavailable for a moment; nothing was stored. "
                "Send the same request again after the Retry-After header's seconds."
            ),
        },
    )
    def post(self, request: ApiRequest) -> Response:
        limit = UploadLimit(
            field_name="uploadedImage", max_bytes=settings.FACE_ENHANCING_MAX_UPLOAD_BYTES
        )
        request.upload_handlers.insert(0, limit)  # before request.data is first read
        values, single_errors = single_values(self._form_data(request))
        form = FaceEnhancingStartSerializer(data=values)
        errors = {} if form.is_valid() else dict(form.errors)
        errors.update(single_errors)
        if limit.repeated:
            errors["uploadedImage"] = ["Send one file in uploadedImage, not several."]
        elif limit.exceeded:
            errors["uploadedImage"] = [
                f"The file is larger than the limit of "
                f"{settings.FACE_ENHANCING_MAX_UPLOAD_BYTES / 1024 / 1024:g} MB."
            ]
        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is not None and not _IDEMPOTENCY_KEY_RE.match(key):
            errors[IDEMPOTENCY_KEY] = ["Must be 1 to 255 printable ASCII characters."]
        if errors:
            raise exceptions.ValidationError(errors)

        data = form.validated_data
        application = require_own_application(request, data["applicationId"])
        if settings.NOTIFICATION_CHANNEL_REQUIRED and not application_has_active_channel(
            application
        ):
            raise ProblemError(
                404,
                "The application has no active notification channel; create one with "
                "POST /api/v1/NotificationChannel before starting a process.",
                {"applicationId": ["Has no active notification channel."]},
            )
        try:
            started = process_start(
                application=application,
                user_id=data["userId"],
                aria_ratio=data["ariaRatio"],
                max_face_count=data["maxFaceCount"],
                upload=data["uploadedImage"],
                idempotency_key=key,
            )
        except QueueUnavailable:
            raise ServiceUnavailable(
                "The processing queue is unavailable, so the image was not kept; send the "
                f"same request again in {QUEUE_RETRY_AFTER} seconds.",
                retry_after=QUEUE_RETRY_AFTER,
            ) from None
        except IdempotencyKeyReused as e:
            raise ProblemError(
                400,
                "The Idempotency-Key was already used for a different request.",
                {IDEMPOTENCY_KEY: [f"Already started process {e.process.id} with other input."]},
            ) from None
        process = selectors.process_get(application=application, process_id=started.process.id)
        response = Response(ImageFaceEnhancerProcessSerializer(process).data)
        if started.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @staticmethod
    def _form_data(request: Request) -> object:
        try:
            return request.data
        except exceptions.UnsupportedMediaType:
            raise ProblemError(
                400,
                "The body must be multipart/form-data.",
                {"uploadedImage": ["Send the image as a multipart/form-data file field."]},
            ) from None


def _page_response(page: selectors.ProcessPage, nothing: str) -> Response:
    if page.total_count == 0:
        raise ProblemError(404, nothing)
    if not page.items:
        raise ProblemError(
            404,
            f"Page {page.page} is past the last page ({page.total_pages}).",
            {"page": [f"Must be at most {page.total_pages}."]},
        )
    return Response(page_body(page))


_LIST_RESPONSES = {
    200: OpenApiResponse(
        ImageFaceEnhancerProcessPageSerializer, description="One page of processes, newest first."
    ),
    400: _problem("A query parameter is missing or invalid."),
    401: UNAUTHORIZED,
    404: _problem("No process matches, or the page is past the last one."),
}


class CheckUserProgressView(FaceEnhancingView):
    @extend_schema(
        operation_id="checkUserProgress",
        tags=[TAG],
        summary="Progress of a user's processes (or of one of them)",
        parameters=[*CREDENTIAL_HEADERS, CheckUserProgressQuery],
        responses=_LIST_RESPONSES,
    )
    def get(self, request: ApiRequest) -> Response:
        query = valid_query(CheckUserProgressQuery, request.query_params)
        page = selectors.progress_page(
            application=request.application,
            user_id=query["userId"],
            process_id=query.get("imageFaceEnhancerProcessId"),
            page=query["page"],
            page_size=query["pageSize"],
        )
        return _page_response(page, "No face enhancing process matches this userId and id.")


class CheckApplicationAllProgressesView(FaceEnhancingView):
    @extend_schema(
        operation_id="checkApplicationAllProgresses",
        tags=[TAG],
        summary="Progress of every process of the application",
        parameters=[*CREDENTIAL_HEADERS, CheckApplicationAllProgressesQuery],
        responses=_LIST_RESPONSES,
    )
    def get(self, request: ApiRequest) -> Response:
        query = valid_query(CheckApplicationAllProgressesQuery, request.query_params)
        application = require_own_application(request, query["applicationId"])
        page = selectors.progress_page(
            application=application, page=query["page"], page_size=query["pageSize"]
        )
        return _page_response(page, "The application has no face enhancing process.")


class DownloadView(FaceEnhancingView):
    @extend_schema(
        operation_id="downloadFaceEnhancedImage",
        tags=[TAG],
        summary="Download the enhanced image, or its low-resolution preview",
        description=(
            "Streams the file as an attachment with its Content-Type, Content-Length and a "
            "file name. The result keeps the upload's format; the preview is a JPEG whose "
            "longest side is at most 512 pixels."
        ),
        parameters=[*CREDENTIAL_HEADERS, DownloadQuery],
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            400: _problem("A query parameter is missing or invalid."),
            401: UNAUTHORIZED,
            404: _problem(
                "The ids do not belong together, or the task has no content yet (the "
                "process is not Completed)."
            ),
        },
    )
    def get(self, request: ApiRequest) -> FileResponse:
        query = valid_query(DownloadQuery, request.query_params)
        application = require_own_application(request, query["applicationId"])
        task = selectors.render_task_for_download(
            application=application,
            process_id=query["imageFaceEnhancerProcessId"],
            task_id=query["taskId"],
        )
        if task is None:
            raise ProblemError(
                404,
                "No render task with this taskId belongs to this process of the application.",
                {"taskId": ["Does not match imageFaceEnhancerProcessId and applicationId."]},
            )
        if not task.has_content:
            raise ProblemError(
                404,
                f"The process has no image to download yet (status {task.process.status}); "
                "download it once the status is Completed.",
            )
        low = query["lowResolution"]
        stored = task.preview if low else task.result
        try:
            file = stored.open("rb")
        except FileNotFoundError:
            raise ProblemError(404, "The image is no longer stored on the server.") from None
        if low:
            extension = "jpg"
        else:
            assert stored.name is not None  # has_content: the result is a stored file
            extension = stored.name.rsplit(".", 1)[-1]
        return FileResponse(
            file,
            as_attachment=True,
            filename=download_file_name(task.process.upload_name, extension, preview=low),
            content_type="image/jpeg" if low else task.content_type,
        )
