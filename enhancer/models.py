"""Applications and their credentials.

An application (`applicationId`) is a client of the Face Enhancer API. It
authenticates every call with a bearer token plus its `x-api-key` and
`x-api-secret`; the token comes from GenerateJwtToken with its
`jwtPrivateKey`. Secrets are stored only as SHA-256 hashes: they are long
random strings, so a fast hash is enough, and they are shown once.

A face enhancing process (`imageFaceEnhancerProcessId`) is one upload of an
application's user; its render task (`taskId`) holds the result to download.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


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


class RefreshTokenChain(models.Model):
    """The refresh tokens descended from one GenerateJwtToken, each exchanged for the next.

    A refresh token is single-use: exchanging it records its `jti` (a
    RefreshTokenUse). One presented again was copied, by the client's bug or a
    thief; as the OAuth 2.0 security guidance recommends, the whole chain is
    then revoked, since which of the two holds the newest token is unknown. The
    client gets a new chain from GenerateJwtToken with its JWT private key.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    credential = models.ForeignKey(
        ApiCredential, on_delete=models.CASCADE, related_name="refresh_token_chains"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token chain {self.id}"


class RefreshTokenUse(models.Model):
    """A refresh token that has been exchanged, by its `jti`: it never works again."""

    jti = models.CharField(max_length=64, primary_key=True)
    chain = models.ForeignKey(RefreshTokenChain, on_delete=models.CASCADE, related_name="uses")
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refresh token {self.jti}"


class ProcessStatus(models.TextChoices):
    """Where a face enhancing process is, as the API reports it in `status`."""

    QUEUED = "Queued"  # stored and waiting for a worker
    PROCESSING = "Processing"  # a worker holds the claim and runs the engine
    COMPLETED = "Completed"  # its render task has a result to download
    FAILED = "Failed"  # `error_message` says why, in words for the user
    # Stopped by its application (CancelFaceEnhancing, an extension beyond the
    # seed): a worker never starts it, or stops at its next progress step.
    CANCELLED = "Cancelled"


# No worker will touch a process in these states again.
FINISHED_STATUSES = (ProcessStatus.COMPLETED, ProcessStatus.FAILED, ProcessStatus.CANCELLED)


class RenderState(models.IntegerChoices):
    """`renderState` of a render task.

    AdCreative's full enum is not public; what is known is that a task is done
    at 5. The values count up through the steps of one render so that clients
    may compare them; a failure is negative so that `renderState >= 5` (a check
    some clients write for "done") never mistakes it for a result.
    """

    CANCELLED = -2, "Cancelled"  # negative too: no result will come
    FAILED = -1, "Failed"
    QUEUED = 1, "Queued"
    STARTED = 2, "Started"  # a worker claimed it and reads the upload
    ENHANCING = 3, "Enhancing"  # the engine detects and restores faces
    STORING = 4, "Storing"  # the result and its preview are being written
    COMPLETED = 5, "Completed"  # Download answers with the result or preview


class FaceEnhancerProcess(models.Model):
    """One POST to FaceEnhancing/AdCreative: an uploaded image and what became of it.

    `id` is the API's `imageFaceEnhancerProcessId`. Workers take a process by
    a conditional update (see enhancer.processing.claims); `worker`, `attempts` and
    `heartbeat_at` record who holds it, how often it was taken, and when its
    holder last proved it was alive.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="face_enhancer_processes"
    )
    # The client's own identifier of its user: not a row of ours.
    user_id = models.UUIDField()
    status = models.CharField(
        max_length=16, choices=ProcessStatus.choices, default=ProcessStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)

    # Parameters, as validated by the API (EnhanceOptions).
    aria_ratio = models.FloatField(default=0.5)
    max_face_count = models.PositiveSmallIntegerField(default=10)

    # Outcome.
    faces_detected = models.PositiveIntegerField(null=True, blank=True)
    faces_enhanced = models.PositiveIntegerField(null=True, blank=True)
    faces = models.JSONField(default=list, blank=True)  # [FaceReport.to_dict(), ...]
    error_message = models.TextField(blank=True, default="")

    # The upload, identified by its content when it was accepted.
    upload = models.FileField(max_length=300)
    upload_name = models.CharField(max_length=255, blank=True, default="")
    upload_format = models.CharField(max_length=8)
    upload_width = models.PositiveIntegerField()
    upload_height = models.PositiveIntegerField()
    upload_size = models.PositiveBigIntegerField()
    upload_sha256 = models.CharField(max_length=64)

    # Delivery bookkeeping. A retried POST with the same Idempotency-Key finds
    # this process; the fingerprint tells a true retry from a key reused for
    # a different request.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")  # "host:pid" of the claim

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "face enhancing process"
        verbose_name_plural = "face enhancing processes"
        indexes = [
            models.Index(fields=["application", "-created_at"], name="process_app_created"),
            models.Index(
                fields=["application", "user_id", "-created_at"], name="process_app_user_created"
            ),
            models.Index(fields=["status", "heartbeat_at"], name="process_status_heartbeat"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="process_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="process_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RenderTask(models.Model):
    """The render of a process (`taskId`); face enhancing makes one per process.

    AdCreative's processes own render tasks because some products render
    several; Download names both ids, so the task is its own row here too.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    process = models.ForeignKey(
        FaceEnhancerProcess, on_delete=models.CASCADE, related_name="render_tasks"
    )
    render_state = models.SmallIntegerField(choices=RenderState.choices, default=RenderState.QUEUED)
    result = models.FileField(max_length=300, blank=True)
    preview = models.FileField(max_length=300, blank=True)  # JPEG, longest side <= 512
    content_type = models.CharField(max_length=32, blank=True, default="")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    preview_size = models.PositiveBigIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.get_render_state_display()})"

    @property
    def has_content(self) -> bool:
        return self.render_state == RenderState.COMPLETED and bool(self.result)
