"""python manage.py enhance INPUT -o OUTPUT [--aria-ratio R] [--max-face-count N]
[--fidelity F] [--preview PATH] [--json]

A thin wrapper over enhancer.engine.cli (also `python -m enhancer.engine`), with
the engine configured from the FACE_ENHANCER_* settings.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enhancer.engine import cli
from enhancer.processing.engine_config import engine_config


class Command(BaseCommand):
    help = "Enhance the faces in one image file with the configured engine."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        status = cli.run(argparse.Namespace(**options), engine_config(), self.stdout, self.stderr)
        if status != 0:
            # The message is already on stderr (and in the JSON line).
            raise CommandError("enhancement failed", returncode=status)
