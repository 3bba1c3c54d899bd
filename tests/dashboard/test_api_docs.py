"""/api/docs/ (Swagger UI) and /api/redoc/ work on a server with no internet.

Their scripts and styles come from the installed drf-spectacular-sidecar and
are served by this server; in Chromium, with every other host unreachable,
the docs show the API's operations.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.dashboard.browser import screenshot


class _Assets(HTMLParser):
    """Every URL a page makes the browser load: scripts, styles, icons, fonts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"] or "")
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_load_only_same_origin_assets_and_they_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "@latest" not in html
    assets = _assets(html)
    assert assets, "the page loads no script at all"
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not on this server"
        assert url.startswith("/"), url
        served = client.get(url)
        assert served.status_code == 200, f"{url} answered {served.status_code}"
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) > 100, f"{url} is empty"


def test_swagger_ui_script_comes_from_the_sidecar(client):
    html = client.get("/api/docs/").content.decode()
    assets = _assets(html)
    assert any(
        url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
        for url in assets
    ), assets


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "shown"),
    [("/api/docs/", "FaceEnhancing"), ("/api/redoc/", "FaceEnhancing")],
)
def test_docs_render_with_no_other_host_reachable(chromium, live_server, path, shown):
    from playwright.sync_api import expect

    origin = live_server.url
    elsewhere: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", only_this_server)
    try:
        page.goto(f"{origin}{path}")
        expect(page.get_by_text(shown).first).to_be_visible(timeout=20_000)
        expect(page.get_by_text("Face Enhancer API").first).to_be_visible()
        screenshot(page, "offline" + path.rstrip("/").replace("/", "-"), full_page=False)
    finally:
        page.close()
    assert elsewhere == [], f"the docs asked other hosts for {elsewhere}"
