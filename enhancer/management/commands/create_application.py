"""python manage.py create_application NAME [--webhook-url URL] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from enhancer.auth.credentials import application_create
from enhancer.models import Application
from enhancer.notifications.services import ChannelRefused, channel_create


class Command(BaseCommand):
    help = (
        "Create a Face Enhancer API application with fresh credentials and print them "
        "(they are shown only now)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--webhook-url", help="also create an active webhook notification channel to this URL"
        )
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object on the last line"
        )

    # One transaction: an application whose webhook URL is refused must not be
    # left behind with secrets nobody saw.
    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        issued = application_create(name=options["name"])
        result: dict[str, Any] = issued.to_dict()
        if options["webhook_url"]:
            result.update(self._webhook_channel(issued.application, options["webhook_url"]))
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(self.style.SUCCESS(f"Created application {options['name']!r}."))
        self.stdout.write("Keep these now; the secrets are not shown again:")
        for key, value in result.items():
            self.stdout.write(f"  {key}: {value}")

    def _webhook_channel(self, application: Application, url: str) -> dict[str, str]:
        """An active webhook channel, as JSON keys; a refused URL is the caller's error."""
        try:
            channel = channel_create(application=application, url=url)
        except ChannelRefused as e:
            raise CommandError(f"--webhook-url {url!r} was refused: {e}") from None
        return {
            "notificationChannelId": str(channel.id),
            "webhookUrl": channel.url,
            "webhookSigningSecret": channel.signing_secret,
        }
