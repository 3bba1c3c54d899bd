"""Bearer tokens: short-lived access tokens and longer-lived refresh tokens.

HS256 JWTs signed with JWT_SIGNING_KEY (SECRET_KEY by default). A token names
the application (`sub`) and the credential it was issued for (`cid`), so that
revoking a credential also ends its tokens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.utils import timezone

from enhancer.models import ApiCredential

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, of the wrong kind or revoked."""


@dataclass(frozen=True)
class TokenPair:
    application_id: uuid.UUID
    access_token: str
    access_token_expiration: datetime
    refresh_token: str
    refresh_token_expiration: datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "applicationId": str(self.application_id),
            "accessToken": self.access_token,
            "accessTokenExpiration": self.access_token_expiration.isoformat(),
            "refreshToken": self.refresh_token,
            "refreshTokenExpiration": self.refresh_token_expiration.isoformat(),
        }


def _encode(credential: ApiCredential, kind: str, lifetime: timedelta) -> tuple[str, datetime]:
    now = timezone.now().replace(microsecond=0)
    expires = now + lifetime
    claims = {
        "sub": str(credential.application_id),
        "cid": credential.pk,
        "typ": kind,
        "iat": now,
        "exp": expires,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), expires


def token_pair_issue(*, credential: ApiCredential) -> TokenPair:
    access, access_expires = _encode(
        credential, ACCESS, timedelta(seconds=settings.JWT_ACCESS_TOKEN_LIFETIME)
    )
    refresh, refresh_expires = _encode(
        credential, REFRESH, timedelta(seconds=settings.JWT_REFRESH_TOKEN_LIFETIME)
    )
    return TokenPair(credential.application_id, access, access_expires, refresh, refresh_expires)


def credential_for_token(token: str, *, kind: str) -> ApiCredential:
    """The active credential a valid token of this kind was issued for."""
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "cid", "typ", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The token is not valid.") from None
    if claims["typ"] != kind:
        raise InvalidToken(
            f"This is not an {kind} token." if kind == ACCESS else f"This is not a {kind} token."
        )
    credential = (
        ApiCredential.objects.select_related("application")
        .filter(pk=claims["cid"], application_id=claims["sub"])
        .first()
    )
    if credential is None or not credential.is_active or not credential.application.is_active:
        raise InvalidToken("The token's credentials have been revoked.")
    return credential
