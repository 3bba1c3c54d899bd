"""Debian's Chromium driven by Playwright, for the browser tests (the fixture
`chromium` is in tests/dashboard/conftest.py).

No browser is downloaded: the tests use /usr/bin/chromium (`apt-get install
chromium`). Without it a browser test is skipped, unless REQUIRE_BROWSER=1
(CI), where a missing browser is a failure. `screenshot` leaves a full-page PNG
in test-artifacts/.
"""

from __future__ import annotations

import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, base_url: str, username: str = "alice", password: str = "pw-alice-123") -> None:
    """Log in through the login page, as a person does (the factories' alice by default)."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
