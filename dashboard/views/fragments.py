"""Rendering the fragments that pages show and that the live endpoints refresh."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

# Django masks the CSRF token differently on every render: left out of the
# version, or every poll would look like a change.
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@dataclass(frozen=True)
class Fragment:
    html: SafeString
    version: str


def render_fragment(request: HttpRequest, template: str, context: dict[str, Any]) -> Fragment:
    html = render_to_string(template, context, request=request)
    stable = _CSRF_VALUE.sub("", html)
    version = hashlib.blake2s(stable.encode(), digest_size=8).hexdigest()
    return Fragment(mark_safe(html), version)  # noqa: S308 - our own rendered template
