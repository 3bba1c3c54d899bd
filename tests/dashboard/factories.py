"""Teams, members and jobs for dashboard tests.

Members are the suite's named people (tests/people.py): alice in team Alpha on
Alice's application, bob in team Beta on Bob's; `charlie`, in tests/conftest.py,
is a user of no team.
"""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from dashboard.models import ApiConnection, Job, Membership, Team
from enhancer.auth.credentials import IssuedCredential
from tests.people import user_named


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


def member_of(team: Team, username: str = "alice") -> Membership:
    """`username` (who logs in with `password_of(username)`) in `team`."""
    return Membership.objects.create(team=team, user=user_named(username))


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 140, 120)).save(buffer, fmt)
    return buffer.getvalue()


def job_for(membership: Membership, name: str = "photo.jpg", **fields: object) -> Job:
    """A job with a real stored original (and result and preview when `done=True`)."""
    done = bool(fields.pop("done", False))
    job = Job(
        team=membership.team,
        uploader=membership.user,
        user_guid=membership.user_guid,
        original_name=name,
        **fields,
    )
    job.original.save(name, ContentFile(image_bytes("JPEG", (64, 48))), save=False)
    if done:
        job.status = Job.Status.COMPLETED
        job.progress = 100
        job.completed_at = timezone.now()
        job.result.save("result.png", ContentFile(image_bytes("PNG", (64, 48))), save=False)
        job.result_content_type = "image/png"
        job.preview.save("preview.jpg", ContentFile(image_bytes("JPEG", (32, 24))), save=False)
    job.save()
    return job
