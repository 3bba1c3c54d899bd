"""Settings of bench/api.py: the project's own, plus a trivial view to compare against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
