"""Create the demo data that `make run` needs, once.

An admin account, an API application on this server, a demo team connected
to it, and a demo member; the admin is a member of the team as well.
Idempotent: run again, it creates nothing new and prints no secret again
(secrets are printed only when they are made). The demo passwords alone are
also kept in VAR_DIR/demo-logins (mode 600) for `manage.py demo_logins`.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from dashboard.management.commands.demo_logins import DEMO_ADMIN, DEMO_MEMBER, remember
from dashboard.models import ApiConnection, Membership, Team
from enhancer.auth.credentials import IssuedCredential, application_create, credential_rotate
from enhancer.models import Application

DEMO_APPLICATION = "Demo application"
DEMO_TEAM = "Demo team"


class Command(BaseCommand):
    help = "Create the demo admin, API application, team and member if missing."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        admin_password = self._user(DEMO_ADMIN, superuser=True)
        issued = self._application()
        team = self._team(issued)
        member_password = self._user(DEMO_MEMBER, superuser=False)
        # The admin is in the team too, so that the dashboard at / is theirs to
        # try (not "You're not in a team yet"); an older demo admin joins on the next run.
        for username in (DEMO_ADMIN, DEMO_MEMBER):
            Membership.objects.get_or_create(
                team=team, user=get_user_model().objects.get(username=username)
            )
        self._print_logins(admin_password, member_password)

    def _user(self, username: str, *, superuser: bool) -> str | None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            return None
        password = secrets.token_urlsafe(12)
        # Kept for `manage.py demo_logins` (and `make run`'s last lines) to print again.
        remember(username, password)
        if superuser:
            User.objects.create_superuser(username, email="", password=password)
        else:
            User.objects.create_user(username, email="", password=password)
        return password

    def _application(self) -> IssuedCredential | None:
        application = Application.objects.filter(name=DEMO_APPLICATION).first()
        if application is None:
            issued = application_create(name=DEMO_APPLICATION)
            self.stdout.write(
                self.style.SUCCESS("Created the demo API application (secrets shown once):")
            )
            for key, value in issued.to_dict().items():
                self.stdout.write(f"  {key}: {value}")
            return issued
        self.stdout.write(f"Demo API application exists: applicationId {application.id}")
        if not Team.objects.filter(name=DEMO_TEAM).exists():
            # The team needs the secrets, which are only known when made.
            return credential_rotate(application=application)
        return None

    def _team(self, issued: IssuedCredential | None) -> Team:
        team = Team.objects.filter(name=DEMO_TEAM).first()
        if team is not None:
            return team
        assert issued is not None
        connection = ApiConnection.objects.create(
            name="This server's Face Enhancer API",
            base_url="",  # empty: FACE_ENHANCER_API_URL, this server
            application_id=issued.application.id,
            api_key=issued.api_key,
            api_secret=issued.api_secret,
            jwt_private_key=issued.jwt_private_key,
        )
        self.stdout.write(self.style.SUCCESS(f"Created the demo team {DEMO_TEAM!r}."))
        return Team.objects.create(name=DEMO_TEAM, connection=connection)

    def _print_logins(self, admin_password: str | None, member_password: str | None) -> None:
        if admin_password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Admin login (shown once): {DEMO_ADMIN} / {admin_password}  at /admin/"
                )
            )
        else:
            self.stdout.write(f"Admin '{DEMO_ADMIN}' exists (password shown when it was made).")
        if member_password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo member login (shown once): {DEMO_MEMBER} / {member_password}  at /"
                )
            )
        else:
            self.stdout.write(
                f"Demo member '{DEMO_MEMBER}' exists (password shown when it was made)."
            )
        self.stdout.write("Forgot a password? .venv/bin/python manage.py changepassword <user>")
