"""python manage.py create_application NAME [--webhook-url URL] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from enhancer.credentials import application_create


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

    def _webhook_channel(self, application: Any, url: str) -> dict[str, Any]:
        from enhancer.notifications.services import channel_create_for_command

        return channel_create_for_command(application=application, url=url)
