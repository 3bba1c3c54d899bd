"""What bench/api.py runs in its own process: the engine alone, and the parts of a page read.

Every import of the project's enhancer modules that bench/ needs (beyond the
models, which bench/api_server.py seeds) is in this one module.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench.api_server import Server

if TYPE_CHECKING:
    from enhancer.engine import Enhancer


def engine_enhancer() -> Enhancer:
    import django

    django.setup()
    from enhancer.engine import get_enhancer
    from enhancer.processing.engine_config import engine_config

    return get_enhancer(engine_config())


def engine_once(enhancer: Enhancer, photo: bytes) -> float:
    from enhancer.engine import EnhanceOptions

    start = time.perf_counter()
    enhancer.enhance(photo, EnhanceOptions(), progress=lambda percent: None)
    return time.perf_counter() - start


def request_parts(srv: Server, user_id: str, repeat: int = 200) -> dict[str, float]:
    """Milliseconds of each part of a page-of-20 CheckUserProgress, in this process."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from enhancer.api.face_enhancing_serializers import page_body
    from enhancer.auth.authentication import ApplicationAuthentication
    from enhancer.models import Application
    from enhancer.processing import selectors

    def per_call(function: Callable[[], object]) -> float:
        function()
        start = time.process_time()  # CPU time: what the machine's other load disturbs least
        for _ in range(repeat):
            function()
        return (time.process_time() - start) / repeat * 1000

    request = Request(RequestFactory().get("/", headers=srv.headers))
    application = Application.objects.get(pk=srv.credentials["applicationId"])
    user = uuid.UUID(user_id)

    def read() -> selectors.ProcessPage:
        return selectors.progress_page(application=application, user_id=user, page=1, page_size=20)

    page = read()
    return {
        "authentication (token, key and secret: one query)": per_call(
            lambda: ApplicationAuthentication().authenticate(request)
        ),
        "the page's queries (page, count, render tasks)": per_call(read),
        "the body of 20 processes": per_call(lambda: page_body(page)),
    }
