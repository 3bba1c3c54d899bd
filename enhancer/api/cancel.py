"""POST /api/v1/Image/FaceEnhancing/CancelFaceEnhancing: an extension beyond the seed.

AdCreative's published API has no way to stop a process; a client that no
longer wants a result would otherwise pay for the work and find the process
Completed later. The operation follows the seed's conventions: the same
credentials, the ids as query parameters named as in CheckUserProgress, and
problem details for every refusal. An application cancels only its own
processes: another's id is a 404, as an unknown one.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from enhancer.api.face_enhancing import TAG, UNAUTHORIZED, FaceEnhancingView, _problem
from enhancer.api.face_enhancing_serializers import ImageFaceEnhancerProcessSerializer
from enhancer.api.parameters import valid_query
from enhancer.api.problems import ProblemError
from enhancer.api.schema import CREDENTIAL_HEADERS
from enhancer.auth.authentication import ApiRequest
from enhancer.processing import selectors
from enhancer.processing.stop import ProcessAlreadyFinished, process_cancel


class CancelFaceEnhancingQuery(serializers.Serializer):
    userId = serializers.UUIDField(help_text="The user the process was started for.")
    imageFaceEnhancerProcessId = serializers.UUIDField(help_text="The process to cancel.")


class CancelFaceEnhancingView(FaceEnhancingView):
    @extend_schema(
        operation_id="cancelFaceEnhancing",
        tags=[TAG],
        summary="Cancel a queued or running process (an extension beyond AdCreative's API)",
        description=(
            "A Queued process is taken out of the queue: no worker starts it. A Processing "
            "one stops at its next progress step and keeps no result. Either way its status "
            "becomes Cancelled (its render task's renderState -2), errorMessage says so, and "
            "the notification channels receive an ImageFaceEnhancingTaskCompleted message "
            "with IsSuccessful false. Cancelling a Cancelled process again answers it "
            "unchanged (200, no second message); a Completed or Failed one is a 409."
        ),
        parameters=[*CREDENTIAL_HEADERS, CancelFaceEnhancingQuery],
        request=None,
        responses={
            200: OpenApiResponse(
                ImageFaceEnhancerProcessSerializer, description="The process, now Cancelled."
            ),
            400: _problem("A query parameter is missing or invalid."),
            401: UNAUTHORIZED,
            404: _problem("The application has no such process for this userId."),
            409: _problem("The process is already Completed or Failed; its status is named."),
        },
    )
    def post(self, request: ApiRequest) -> Response:
        query = valid_query(CancelFaceEnhancingQuery, request.query_params)
        application = request.application
        process = selectors.process_get(
            application=application, process_id=query["imageFaceEnhancerProcessId"]
        )
        if process is None or process.user_id != query["userId"]:
            raise ProblemError(
                404,
                "No face enhancing process matches this userId and id.",
                {"imageFaceEnhancerProcessId": ["No such process of this userId."]},
            )
        try:
            process_cancel(process=process)
        except ProcessAlreadyFinished as e:
            raise ProblemError(
                409,
                f"The process is already {e.status}; only a Queued or Processing process "
                "can be cancelled.",
                {"imageFaceEnhancerProcessId": [f"Is {e.status}."]},
            ) from None
        # Read again through the selector: the body shows the render task's new state.
        cancelled = selectors.process_get(application=application, process_id=process.pk)
        return Response(ImageFaceEnhancerProcessSerializer(cancelled).data)
