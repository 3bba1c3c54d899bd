"""POST /api/v1/Authorization/GenerateJwtToken and RefreshJwtToken."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enhancer.api.problems import ProblemError
from enhancer.api.schema import PROBLEM
from enhancer.auth.credentials import credential_for_jwt_key
from enhancer.auth.tokens import (
    InvalidToken,
    TokenOfAnotherApplication,
    token_pair_issue,
    token_pair_refresh,
)


class GenerateJwtTokenRequest(serializers.Serializer):
    applicationId = serializers.UUIDField()
    jwtPrivateKey = serializers.CharField(max_length=512, trim_whitespace=True)


class RefreshJwtTokenRequest(serializers.Serializer):
    applicationId = serializers.UUIDField(required=False)
    refreshToken = serializers.CharField(max_length=4096)


class TokenPairResponse(serializers.Serializer):
    applicationId = serializers.UUIDField()
    accessToken = serializers.CharField()
    accessTokenExpiration = serializers.DateTimeField()
    refreshToken = serializers.CharField()
    refreshTokenExpiration = serializers.DateTimeField()


_RESPONSES = {
    200: TokenPairResponse,
    400: OpenApiResponse(PROBLEM, description="A field is missing or invalid."),
    401: OpenApiResponse(PROBLEM, description="The key or token is wrong, expired or revoked."),
}


class GenerateJwtTokenView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        operation_id="generateJwtToken",
        tags=["Authorization"],
        request=GenerateJwtTokenRequest,
        responses=_RESPONSES,
        summary="Get an access token (and a refresh token) with the application's JWT private key",
    )
    def post(self, request: Request) -> Response:
        data = GenerateJwtTokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        credential = credential_for_jwt_key(
            application_id=data.validated_data["applicationId"],
            jwt_private_key=data.validated_data["jwtPrivateKey"],
        )
        if credential is None:
            raise ProblemError(
                401,
                "The applicationId and jwtPrivateKey do not match an active application.",
                {"jwtPrivateKey": ["Is not the JWT private key of this application."]},
            )
        return Response(token_pair_issue(credential=credential).to_dict())


class RefreshJwtTokenView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        operation_id="refreshJwtToken",
        tags=["Authorization"],
        request=RefreshJwtTokenRequest,
        responses=_RESPONSES,
        summary="Exchange a refresh token for a new token pair",
        description=(
            "A refresh token works once. Sent again, it is refused (401) and every refresh "
            "token descended from the same GenerateJwtToken is revoked: get a new pair "
            "with the JWT private key."
        ),
    )
    def post(self, request: Request) -> Response:
        data = RefreshJwtTokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            pair = token_pair_refresh(
                refresh_token=data.validated_data["refreshToken"],
                application_id=data.validated_data.get("applicationId"),
            )
        except TokenOfAnotherApplication as e:
            raise ProblemError(
                401, str(e), {"applicationId": ["Does not match the refresh token."]}
            ) from None
        except InvalidToken as e:
            raise ProblemError(401, str(e), {"refreshToken": [str(e)]}) from None
        return Response(pair.to_dict())
