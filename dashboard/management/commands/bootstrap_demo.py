"""Create the demo data that `make run` needs, once.

Idempotent: run again, it creates nothing new and prints no secret again
(secrets are printed only when they are made).
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_ADMIN = "admin"
DEMO_APPLICATION = "Demo application"


class Command(BaseCommand):
    help = "Create the demo admin account (and later demo data) if missing."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        self._admin()
        self._application()

    def _admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(username=DEMO_ADMIN).exists():
            self.stdout.write(
                f"Demo admin '{DEMO_ADMIN}' exists (its password was printed when it was made; "
                f"reset it with: .venv/bin/python manage.py changepassword {DEMO_ADMIN})"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(DEMO_ADMIN, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the demo admin. Log in at /admin/ as '{DEMO_ADMIN}' "
                f"with password: {password}  (shown once)"
            )
        )

    def _application(self) -> None:
        from enhancer.credentials import application_create
        from enhancer.models import Application

        existing = Application.objects.filter(name=DEMO_APPLICATION).first()
        if existing is not None:
            self.stdout.write(f"Demo API application exists: applicationId {existing.id}")
            return
        issued = application_create(name=DEMO_APPLICATION)
        self.stdout.write(
            self.style.SUCCESS("Created the demo API application (secrets shown once):")
        )
        for key, value in issued.to_dict().items():
            self.stdout.write(f"  {key}: {value}")
