"""Teams, members and jobs for dashboard tests."""

from __future__ import annotations

import io
import uuid

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from PIL import Image

from dashboard.models import ApiConnection, Job, Membership, Team
from enhancer.credentials import IssuedCredential


def team_for(issued: IssuedCredential, *, base_url: str = "", name: str = "Alpha") -> Team:
    connection = ApiConnection.objects.create(
        name=f"{name} connection",
        base_url=base_url,
        application_id=issued.application.id,
        api_key=issued.api_key,
        api_secret=issued.api_secret,
        jwt_private_key=issued.jwt_private_key,
    )
    return Team.objects.create(name=name, connection=connection)


def member_of(team: Team, username: str = "alice", password: str = "pw-alice-123") -> Membership:
    user = get_user_model().objects.create_user(username, password=password)
    return Membership.objects.create(team=team, user=user)


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def job_for(membership: Membership, **fields: object) -> Job:
    job = Job(
        team=membership.team,
        uploader=membership.user,
        user_guid=membership.user_guid,
        original_name="photo.jpg",
        **fields,
    )
    job.original.save("photo.jpg", ContentFile(tiny_jpeg()), save=False)
    job.save()
    return job


def random_uuid() -> uuid.UUID:
    return uuid.uuid4()
