"""The Dockerfile: what a build needs from outside, and who owns /data.

`make compose-check` builds and runs the image for real on a private Docker
engine (.ci/docker/compose-check.sh); these tests keep the two faults it found
from coming back, and run with the suite everywhere.
"""

from __future__ import annotations

import re

from tests.deploy.compose import ROOT

TEXT = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = TEXT.replace("\\\n", " ")


def test_no_syntax_line_so_buildkit_fetches_no_frontend_from_docker_hub():
    assert not re.search(r"^#\s*syntax\s*=", TEXT, flags=re.MULTILINE | re.IGNORECASE)


def test_both_stages_use_the_same_base_image_pinned_to_a_debian_release():
    bases = re.findall(r"^FROM (\S+)", INSTRUCTIONS, flags=re.MULTILINE)
    assert len(bases) == 2 and bases[0] == bases[1], bases
    assert re.fullmatch(r"python:3\.11-slim-bookworm", bases[0]), bases


def test_nothing_root_owned_is_left_in_the_media_volume():
    """The settings create VAR_DIR and MEDIA_ROOT on import: the build's
    collectstatic (as root) must point both away from /data, and /data/media
    ships owned by the app user (a new named volume copies it)."""
    runs = [line for line in INSTRUCTIONS.splitlines() if line.startswith("RUN")]
    collect = next(line for line in runs if "collectstatic" in line)
    assert "VAR_DIR=/tmp/" in collect and "MEDIA_ROOT=/tmp/" in collect, collect
    assert "chown -R app:app /data" in collect, collect
    user_line = INSTRUCTIONS.index("\nUSER app")
    assert INSTRUCTIONS.index(collect) < user_line
