"""/api/v1/NotificationChannel: the notification channels of the calling application.

    POST   /api/v1/NotificationChannel                    create (201; the signing secret, once)
    GET    /api/v1/NotificationChannel                    list all
    GET    /api/v1/NotificationChannel/Active             list the active ones
    GET    /api/v1/NotificationChannel/{id}               one
    PUT    /api/v1/NotificationChannel/{id}               update (every field)
    PATCH  /api/v1/NotificationChannel/{id}               update (the fields sent)
    DELETE /api/v1/NotificationChannel/{id}               delete (204)
    POST   /api/v1/NotificationChannel/{id}/RotateSecret  a new signing secret, once
    GET    /api/v1/NotificationChannel/{id}/Deliveries    the latest webhook deliveries

Every call authenticates as an application (bearer + x-api-key + x-api-secret)
and sees only that application's channels: another's answer 404, as missing
ones do.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from enhancer.api.parameters import valid_query
from enhancer.api.problems import ProblemError
from enhancer.api.schema import CREDENTIAL_HEADERS, PROBLEM
from enhancer.auth.authentication import ApiRequest, ApplicationAPIView, require_own_application
from enhancer.notifications import selectors, services
from enhancer.notifications.models import NotificationChannel
from enhancer.notifications.serializers import (
    ChannelRequest,
    ChannelResponse,
    ChannelWithSecretResponse,
    DeliveryResponse,
)

TAG = "NotificationChannel"
APPLICATION_QUERY = OpenApiParameter(
    "applicationId",
    uuid.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Optional; when given it must be the application of the credentials.",
)
CHANNEL_PATH = OpenApiParameter(
    "channel_id", uuid.UUID, OpenApiParameter.PATH, description="notificationChannelId"
)
BAD_REQUEST = OpenApiResponse(PROBLEM, description="A field is missing or invalid (see errors).")
UNAUTHORIZED = OpenApiResponse(
    PROBLEM, description="Missing, invalid or expired token, or wrong x-api-key/x-api-secret."
)
NOT_FOUND = OpenApiResponse(
    PROBLEM, description="No channel with this id belongs to the calling application."
)


class ApplicationQuery(serializers.Serializer):
    applicationId = serializers.UUIDField(required=False)


class DeliveriesQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


def _check_application(request: ApiRequest, data: dict[str, Any]) -> None:
    application_id = data.get("applicationId")
    if application_id is not None:
        require_own_application(request, application_id)


def _refused(e: services.ChannelRefused) -> ProblemError:
    return ProblemError(400, "One or more validation errors occurred.", e.errors)


def _channel_or_404(request: ApiRequest, channel_id: uuid.UUID) -> NotificationChannel:
    channel = selectors.channel_get(application=request.application, channel_id=channel_id)
    if channel is None:
        raise ProblemError(404, "No notification channel with this id belongs to this application.")
    return channel


def _list(request: ApiRequest, *, active_only: bool) -> Response:
    _check_application(request, valid_query(ApplicationQuery, request.query_params))
    channels = selectors.channel_list(application=request.application, active_only=active_only)
    return Response(ChannelResponse(channels, many=True).data)


class NotificationChannelsView(ApplicationAPIView):
    @extend_schema(
        operation_id="createNotificationChannel",
        tags=[TAG],
        parameters=CREDENTIAL_HEADERS,
        request=ChannelRequest,
        responses={
            201: ChannelWithSecretResponse,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
        },
        summary="Create a Webhook or RabbitMQ channel; its signing secret is shown only here",
    )
    def post(self, request: ApiRequest) -> Response:
        data = ChannelRequest(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        _check_application(request, fields)
        try:
            channel = services.channel_create(
                application=request.application,
                url=fields["url"],
                channel_type=fields["type"],
                is_active=fields["isActive"],
                include_image_data=fields["includeImageData"],
                exchange=fields.get("exchange"),
                routing_key=fields.get("routingKey", ""),
            )
        except services.ChannelRefused as e:
            raise _refused(e) from None
        return Response(ChannelWithSecretResponse(channel).data, status=201)

    @extend_schema(
        operation_id="listNotificationChannels",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, APPLICATION_QUERY],
        responses={200: ChannelResponse(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
        summary="Every notification channel of the application",
    )
    def get(self, request: ApiRequest) -> Response:
        return _list(request, active_only=False)


class ActiveNotificationChannelsView(ApplicationAPIView):
    @extend_schema(
        operation_id="listActiveNotificationChannels",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, APPLICATION_QUERY],
        responses={200: ChannelResponse(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
        summary="The active notification channels of the application",
    )
    def get(self, request: ApiRequest) -> Response:
        return _list(request, active_only=True)


class NotificationChannelView(ApplicationAPIView):
    @extend_schema(
        operation_id="getNotificationChannel",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, CHANNEL_PATH],
        responses={200: ChannelResponse, 401: UNAUTHORIZED, 404: NOT_FOUND},
        summary="One notification channel",
    )
    def get(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        return Response(ChannelResponse(_channel_or_404(request, channel_id)).data)

    @extend_schema(
        operation_id="updateNotificationChannel",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, CHANNEL_PATH],
        request=ChannelRequest,
        responses={200: ChannelResponse, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
        summary="Replace a channel's settings (fields left out take their defaults)",
    )
    def put(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        return self._update(request, channel_id, partial=False)

    @extend_schema(
        operation_id="patchNotificationChannel",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, CHANNEL_PATH],
        request=ChannelRequest(partial=True),
        responses={200: ChannelResponse, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
        summary="Change some of a channel's settings (fields left out keep their values)",
    )
    def patch(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        return self._update(request, channel_id, partial=True)

    @extend_schema(
        operation_id="deleteNotificationChannel",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, CHANNEL_PATH],
        responses={204: None, 401: UNAUTHORIZED, 404: NOT_FOUND},
        summary="Delete a channel and its delivery log",
    )
    def delete(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        services.channel_delete(channel=_channel_or_404(request, channel_id))
        return Response(status=204)

    def _update(self, request: ApiRequest, channel_id: uuid.UUID, *, partial: bool) -> Response:
        # Authorization before validation: another application's id is a 404
        # whatever the body says.
        channel = _channel_or_404(request, channel_id)
        data = ChannelRequest(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        _check_application(request, fields)
        try:
            channel = services.channel_update(
                channel=channel,
                url=fields.get("url", channel.url),
                channel_type=fields.get("type", channel.type),
                is_active=fields.get("isActive", channel.is_active),
                include_image_data=fields.get("includeImageData", channel.include_image_data),
                exchange=fields.get("exchange"),
                routing_key=fields.get("routingKey"),
            )
        except services.ChannelRefused as e:
            raise _refused(e) from None
        return Response(ChannelResponse(channel).data)


class RotateSecretView(ApplicationAPIView):
    @extend_schema(
        operation_id="rotateNotificationChannelSecret",
        tags=[TAG],
        parameters=[*CREDENTIAL_HEADERS, CHANNEL_PATH],
        request=None,
        responses={200: ChannelWithSecretResponse, 401: UNAUTHORIZED, 404: NOT_FOUND},
        summary="A new signing secret, shown only in this answer",
        description=(
            "Messages are then signed with the new secret and, for a grace period "
            "(NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE, 24 h by default), also with the old "
            "one: webhook-signature carries two space-separated signatures meanwhile."
        ),
    )
    def post(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        channel = services.channel_secret_rotate(channel=_channel_or_404(request, channel_id))
        return Response(ChannelWithSecretResponse(channel).data)


class DeliveriesView(ApplicationAPIView):
    @extend_schema(
        operation_id="listNotificationChannelDeliveries",
        tags=[TAG],
        parameters=[
            *CREDENTIAL_HEADERS,
            CHANNEL_PATH,
            OpenApiParameter("limit", int, OpenApiParameter.QUERY, description="1..200, 50"),
        ],
        responses={
            200: DeliveryResponse(many=True),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            404: NOT_FOUND,
        },
        summary="The channel's latest webhook deliveries, newest first",
    )
    def get(self, request: ApiRequest, channel_id: uuid.UUID) -> Response:
        channel = _channel_or_404(request, channel_id)
        query = valid_query(DeliveriesQuery, request.query_params)
        deliveries = selectors.delivery_list(channel=channel, limit=query["limit"])
        return Response(DeliveryResponse(deliveries, many=True).data)
