"""How a Face Enhancer API call proves which application it comes from.

Every FaceEnhancing and NotificationChannel call sends three things, as
AdCreative's API wants them: `Authorization: Bearer <accessToken>`,
`x-api-key` and `x-api-secret`. All three must be valid and belong to the
same application. The view then finds that application on the typed
request, `request.application` (an ApiRequest), and must scope every query by it.
"""

from __future__ import annotations

import uuid

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from enhancer.api.problems import ProblemError
from enhancer.auth.credentials import secret_matches
from enhancer.auth.tokens import ACCESS, InvalidToken, credential_for_token, token_claims
from enhancer.models import ApiCredential, Application
from enhancer.processing.selectors import ModelSelect


class ApiRequest(Request):
    """The request of an authenticated Face Enhancer API view (the type views declare).

    ApplicationAuthentication sets `application`; IsApplication lets no view
    run without it.
    """

    application: Application


class ApplicationAuthentication(authentication.BaseAuthentication):
    """Bearer token + x-api-key + x-api-secret -> `request.application`.

    DRF's `request.user` and `request.auth` stay None: the caller is an
    application, not a user, and is read from its own typed attribute.
    """

    def authenticate(self, request: Request) -> tuple[None, None]:
        application = self._application(request)
        request.application = application  # type: ignore[attr-defined]  # ApiRequest's attribute
        return (None, None)

    def _application(self, request: Request) -> Application:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise exceptions.AuthenticationFailed(
                "The Authorization header with a Bearer token is missing."
            )
        if scheme.lower() != "bearer" or not token.strip():
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        api_key = request.META.get("HTTP_X_API_KEY", "")
        api_secret = request.META.get("HTTP_X_API_SECRET", "")
        if not api_key or not api_secret:
            raise exceptions.AuthenticationFailed(
                "The x-api-key and x-api-secret headers are required."
            )
        token = token.strip()
        # Every progress poll comes here, so the usual case skips the token's
        # own query: a token issued for the very credential the key names
        # (signature, expiry and kind checked here) is active exactly when
        # that credential is, which the key's lookup has just checked.
        # Anything else takes the full path below, whose answers and messages
        # are unchanged.
        claims = _access_claims(token)
        key_credential = _credential_for_api_key(api_key=api_key, api_secret=api_secret)
        if key_credential is not None and _issued_for(claims, key_credential):
            return key_credential.application
        try:
            token_credential = credential_for_token(token, kind=ACCESS)
        except InvalidToken as e:
            raise exceptions.AuthenticationFailed(str(e)) from None
        if key_credential is None:
            raise exceptions.AuthenticationFailed("The API key or API secret is wrong.")
        if key_credential.application_id != token_credential.application_id:
            raise exceptions.AuthenticationFailed(
                "The bearer token and the API key belong to different applications."
            )
        return key_credential.application

    def authenticate_header(self, request: Request) -> str:
        # Present so that DRF answers 401 (not 403) to unauthenticated calls.
        return 'Bearer realm="face-enhancer"'


_CREDENTIALS = ModelSelect(ApiCredential)
_APPLICATIONS = ModelSelect(Application)


def _credential_for_api_key(*, api_key: str, api_secret: str) -> ApiCredential | None:
    """The active credential with this key, if the secret is its secret.

    In SQL written from the models (see enhancer.processing.selectors.progress_page),
    the credential and its application in one query: the ORM's query cost every
    poll 1 ms, and on PostgreSQL each query is about 0.2 ms of psycopg's work."""
    found = _CREDENTIALS.fetch_joined(
        _APPLICATIONS,
        ("application", "id"),
        {"api_key": api_key},
        null=("revoked_at",),
        other_equal={"is_active": True},
    )
    if not found:
        secret_matches(api_secret, "0" * 64)  # the same hashing time as a real comparison
        return None
    credential, application = found[0]  # an inner join: never None
    credential.application = application
    return credential if secret_matches(api_secret, credential.api_secret_hash) else None


def _access_claims(token: str) -> dict[str, object] | None:
    """The claims of a well-signed, unexpired access token; None for anything else."""
    try:
        return token_claims(token, kind=ACCESS)
    except InvalidToken:
        return None


def _issued_for(claims: dict[str, object] | None, credential: ApiCredential) -> bool:
    return (
        claims is not None
        and claims["cid"] == credential.pk
        and claims["sub"] == str(credential.application_id)
    )


class IsApplication(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(getattr(request, "application", None), Application)


def require_own_application(request: ApiRequest, application_id: uuid.UUID) -> Application:
    """The authenticated application, if `application_id` names it; 401 otherwise.

    A GUID is not an access check: one application's credentials never reach
    another application's data, and the answer does not tell whether the other
    application exists.
    """
    application = request.application
    if application.id != application_id:
        raise ProblemError(
            401,
            "These credentials do not belong to the application in the request.",
            {"applicationId": ["Does not match the application of the credentials."]},
        )
    return application


class ApplicationAPIView(APIView):
    """Base of every authenticated Face Enhancer API view."""

    authentication_classes = [ApplicationAuthentication]
    permission_classes = [IsApplication]
