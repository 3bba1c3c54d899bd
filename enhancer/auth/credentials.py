"""Creating, rotating and checking application credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from enhancer.models import ApiCredential, Application


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(value), stored_hash)


@dataclass(frozen=True)
class IssuedCredential:
    """The clear-text secrets, available only at the moment they are made."""

    application: Application
    credential: ApiCredential
    api_key: str
    api_secret: str
    jwt_private_key: str

    def to_dict(self) -> dict[str, str]:
        return {
            "applicationId": str(self.application.id),
            "apiKey": self.api_key,
            "apiSecret": self.api_secret,
            "jwtPrivateKey": self.jwt_private_key,
        }


@transaction.atomic
def application_create(*, name: str, application_id: uuid.UUID | None = None) -> IssuedCredential:
    application = Application.objects.create(
        name=name, **({"id": application_id} if application_id else {})
    )
    return credential_issue(application=application)


@transaction.atomic
def credential_issue(*, application: Application) -> IssuedCredential:
    api_key = "fek_" + secrets.token_urlsafe(24)
    api_secret = "fes_" + secrets.token_urlsafe(32)
    jwt_private_key = "fej_" + secrets.token_urlsafe(48)
    credential = ApiCredential.objects.create(
        application=application,
        api_key=api_key,
        api_secret_hash=secret_hash(api_secret),
        jwt_private_key_hash=secret_hash(jwt_private_key),
    )
    return IssuedCredential(application, credential, api_key, api_secret, jwt_private_key)


@transaction.atomic
def credential_rotate(*, application: Application) -> IssuedCredential:
    """Issue new secrets and revoke every earlier set of the application."""
    ApiCredential.objects.filter(application=application, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    return credential_issue(application=application)


def credential_for_jwt_key(
    *, application_id: uuid.UUID, jwt_private_key: str
) -> ApiCredential | None:
    """The active credential of the application whose JWT private key this is."""
    candidates = ApiCredential.objects.select_related("application").filter(
        application_id=application_id, application__is_active=True, revoked_at=None
    )
    for credential in candidates:
        if secret_matches(jwt_private_key, credential.jwt_private_key_hash):
            return credential
    return None
