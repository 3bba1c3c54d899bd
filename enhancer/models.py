"""Applications and their credentials.

An application (`applicationId`) is a client of the Face Enhancer API. It
authenticates every call with a bearer token plus its `x-api-key` and
`x-api-secret`; the token comes from GenerateJwtToken with its
`jwtPrivateKey`. Secrets are stored only as SHA-256 hashes: they are long
random strings, so a fast hash is enough, and they are shown once.
"""

from __future__ import annotations

import uuid

from django.db import models


class Application(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ApiCredential(models.Model):
    """One set of secrets of an application. Rotation adds a set and revokes the old."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="credentials"
    )
    # The API key identifies the credential (it is looked up, so it is kept in
    # clear); the secret and the JWT private key are only kept hashed.
    api_key = models.CharField(max_length=64, unique=True)
    api_secret_hash = models.CharField(max_length=64)
    jwt_private_key_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.api_key[:8]}… of {self.application.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
