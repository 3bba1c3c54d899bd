"""Bearer tokens: short-lived access tokens and longer-lived refresh tokens.

HS256 JWTs signed with JWT_SIGNING_KEY (SECRET_KEY by default). A token names
the application (`sub`) and the credential it was issued for (`cid`), so that
revoking a credential also ends its tokens. A refresh token also names its
chain (`chn`, a RefreshTokenChain): it is exchanged once, and presented again
it revokes the chain.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.utils import timezone

from enhancer.models import ApiCredential, RefreshTokenChain, RefreshTokenUse

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, of the wrong kind or revoked."""


class TokenOfAnotherApplication(InvalidToken):
    """A valid refresh token, sent with the id of another application."""


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


def _encode(
    credential: ApiCredential, kind: str, lifetime: timedelta, **extra: str
) -> tuple[str, datetime]:
    now = timezone.now().replace(microsecond=0)
    expires = now + lifetime
    claims = {
        "sub": str(credential.application_id),
        "cid": credential.pk,
        "typ": kind,
        "iat": now,
        "exp": expires,
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), expires


def token_pair_issue(
    *, credential: ApiCredential, chain: RefreshTokenChain | None = None
) -> TokenPair:
    """A new pair; its refresh token starts a chain, or continues `chain`."""
    if chain is None:
        chain = RefreshTokenChain.objects.create(credential=credential)
    access, access_expires = _encode(
        credential, ACCESS, timedelta(seconds=settings.JWT_ACCESS_TOKEN_LIFETIME)
    )
    refresh, refresh_expires = _encode(
        credential,
        REFRESH,
        timedelta(seconds=settings.JWT_REFRESH_TOKEN_LIFETIME),
        chn=str(chain.id),
    )
    return TokenPair(credential.application_id, access, access_expires, refresh, refresh_expires)


def token_pair_refresh(*, refresh_token: str, application_id: uuid.UUID | None = None) -> TokenPair:
    """A new pair for a refresh token, which is used up by it.

    A refresh token used before revokes its whole chain (see RefreshTokenChain).
    """
    claims, credential = _verified(refresh_token, kind=REFRESH)
    if application_id is not None and application_id != credential.application_id:
        raise TokenOfAnotherApplication("The refresh token belongs to another application.")
    try:
        chain_id = uuid.UUID(str(claims.get("chn")))
    except ValueError:
        raise InvalidToken("The token is not valid.") from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidToken("The token is not valid.")
    chain = RefreshTokenChain.objects.filter(pk=chain_id, credential=credential).first()
    if chain is None:
        raise InvalidToken("The token is not valid.")
    if chain.revoked_at is not None:
        raise InvalidToken(
            "The refresh token has been revoked, because a token of its chain was used "
            "twice; get a new pair with GenerateJwtToken."
        )
    # The primary key decides between two requests with the same token: one
    # creates the row, the other finds it and is the reuse.
    _, first_use = RefreshTokenUse.objects.get_or_create(jti=jti, defaults={"chain": chain})
    if not first_use:
        RefreshTokenChain.objects.filter(pk=chain.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        raise InvalidToken(
            "The refresh token was already used, so every refresh token of its chain is "
            "revoked; get a new pair with GenerateJwtToken."
        )
    return token_pair_issue(credential=credential, chain=chain)


def credential_for_token(token: str, *, kind: str) -> ApiCredential:
    """The active credential a valid token of this kind was issued for."""
    return _verified(token, kind=kind)[1]


def token_claims(token: str, *, kind: str) -> dict[str, object]:
    """The claims of a well-signed, unexpired token of this kind (no database read)."""
    claims = _signed_claims(token, settings.JWT_SIGNING_KEY)
    # What PyJWT checks on every decode that can change with time: expiry.
    # (Issued-at and not-before only become truer; the signature and the
    # required claims are the token's own.)
    if int(claims["exp"]) <= datetime.now(tz=UTC).timestamp():  # type: ignore[call-overload]
        raise InvalidToken("The token has expired.")
    if claims["typ"] != kind:
        raise InvalidToken(
            f"This is not an {kind} token." if kind == ACCESS else f"This is not a {kind} token."
        )
    return dict(claims)


# A poller sends the same access token on every request, and verifying its
# signature and claims was a tenth of a one-process CheckUserProgress; a token
# that verified once is kept (with the key it verified under), and only its
# expiry is checked again. Only tokens this server signed get in: a failed
# decode raises and is not cached. 4,096 tokens are about 3 MB.
@functools.lru_cache(maxsize=4096)
def _signed_claims(token: str, key: str) -> dict[str, object]:
    try:
        return jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "cid", "typ", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The token is not valid.") from None


def _verified(token: str, *, kind: str) -> tuple[dict[str, object], ApiCredential]:
    claims = token_claims(token, kind=kind)
    credential_id, application_id = claims["cid"], claims["sub"]
    if not isinstance(credential_id, int) or not isinstance(application_id, str):
        # _encode writes an int and a str; only a token signed elsewhere differs.
        raise InvalidToken("The token is not valid.")
    credential = (
        ApiCredential.objects.select_related("application")
        .filter(pk=credential_id, application_id=application_id)
        .first()
    )
    if credential is None or not credential.is_active or not credential.application.is_active:
        raise InvalidToken("The token's credentials have been revoked.")
    return claims, credential
