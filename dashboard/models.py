"""The team dashboard: teams, their API connection, members and jobs.

A team works under one Face Enhancer API application through an API
connection (base URL and the application's credentials). Each member has a
`userId` GUID in that application. A job is one uploaded image on its way
through the API: submitted, polled, downloaded into media storage.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from encrypted_fields.fields import EncryptedCharField


class ApiConnection(models.Model):
    """How a team reaches the Face Enhancer API.

    The secrets are encrypted at rest (Fernet, with a key derived from
    SECRET_KEY and SALT_KEY) and never rendered back into a page.
    """

    name = models.CharField(max_length=200)
    base_url = models.URLField(
        blank=True,
        help_text=(
            "Empty: this server's own Face Enhancer API (FACE_ENHANCER_API_URL). "
            "AdCreative's: https://api.adcreative.ai"
        ),
    )
    application_id = models.UUIDField("application ID")
    api_key = EncryptedCharField(max_length=255)
    api_secret = EncryptedCharField(max_length=255)
    jwt_private_key = EncryptedCharField("JWT private key", max_length=255)
    # The webhook channel this dashboard registered for the application, and
    # the secret its deliveries are signed with.
    notification_channel_id = models.UUIDField(null=True, blank=True, editable=False)
    webhook_secret = EncryptedCharField(max_length=255, blank=True, null=True, editable=False)
    # Set while one worker registers the channel: the others wait for it
    # instead of registering channels whose secrets nobody would keep.
    webhook_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return self.base_url or settings.FACE_ENHANCER_API_URL


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    connection = models.ForeignKey(ApiConnection, on_delete=models.PROTECT, related_name="teams")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    # The member's `userId` in the team's application.
    user_guid = models.UUIDField("user ID in the API", default=uuid.uuid4, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Job(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        # Not failed: the queue (ours or the API's) or the API itself is down
        # for now, and the job is sent again on its own.
        WAITING = "waiting", "Waiting for the queue"
        SUBMITTED = "submitted", "Queued"
        PROCESSING = "processing", "Enhancing"
        DOWNLOADING = "downloading", "Downloading"
        COMPLETED = "completed", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    UNSENT = (Status.PENDING, Status.WAITING)
    ACTIVE = (
        Status.PENDING,
        Status.WAITING,
        Status.SUBMITTED,
        Status.PROCESSING,
        Status.DOWNLOADING,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="jobs")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="jobs"
    )
    user_guid = models.UUIDField("user ID in the API")
    original = models.FileField(upload_to="dashboard/originals/%Y/%m/")
    original_name = models.CharField(max_length=255)
    aria_ratio = models.FloatField(default=0.5)
    max_face_count = models.PositiveSmallIntegerField(default=10)
    # The upload submission the job came with (the upload page sends one
    # request per file, all with the same batch): My jobs says when it is done.
    batch = models.UUIDField(null=True, blank=True, db_index=True, editable=False)

    process_id = models.UUIDField("upstream process ID", null=True, blank=True, db_index=True)
    # The Idempotency-Key of the current submission: every submit of it (a
    # redelivered task, the sweeper) gets the same process back; a retry after
    # failure sets a new one, so that it gets a new process. Empty: the job's id.
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    task_id = models.UUIDField("upstream task ID", null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)
    faces_detected = models.PositiveSmallIntegerField(null=True, blank=True)
    faces_enhanced = models.PositiveSmallIntegerField(null=True, blank=True)

    result = models.FileField(upload_to="dashboard/results/%Y/%m/", blank=True)
    result_content_type = models.CharField(max_length=100, blank=True)
    preview = models.FileField(upload_to="dashboard/previews/%Y/%m/", blank=True)

    # How often the workers have tried the current step; the sweeper fails a
    # job that keeps coming back instead of re-driving it forever.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Touched by every state change: the sweeper's sign of life.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status_label})"

    # States whose progress means something: before them the image is in line.
    SHOWS_PROGRESS = (Status.PROCESSING, Status.DOWNLOADING, Status.COMPLETED)
    NO_FACE = "No face found"

    @classmethod
    def label_for(cls, status: str, faces_detected: int | None) -> str:
        """The words for a state, the same on every page (My jobs, job, Team, staff)."""
        if status == cls.Status.COMPLETED and faces_detected == 0:
            return cls.NO_FACE
        return str(cls.Status(status).label)

    @property
    def status_label(self) -> str:
        return self.label_for(self.status, self.faces_detected)

    @property
    def found_no_face(self) -> bool:
        return self.status == self.Status.COMPLETED and self.faces_detected == 0

    @property
    def shows_progress(self) -> bool:
        return self.status in self.SHOWS_PROGRESS

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def processing_seconds(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.created_at).total_seconds()


class EarlierProcess(models.Model):
    """An API process a job had before it was retried (after a cancel or a failure).

    The API keeps every process, and lists them on the Team page; without this
    link a retried job's earlier process would read as another client's.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="earlier_processes")
    process_id = models.UUIDField("upstream process ID", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.process_id} (earlier process of {self.job_id})"
