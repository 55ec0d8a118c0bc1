# syntax=docker/dockerfile:1
#
# Qunyun production image: one image, several roles (web, worker, beat, migrate).
# The default command runs the web server; docker-compose.yml overrides it for the others.

ARG PYTHON_IMAGE=python:3.11-slim

# --- Stage 1: resolve and install dependencies into /app/.venv ------------------------------
FROM ${PYTHON_IMAGE} AS builder

# uv, pinned; same version the lockfile was written with.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Only the dependency manifests: this layer is rebuilt when dependencies change, not code.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# --- Stage 2: runtime ------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=config.settings

# Unprivileged user with a writable home (gunicorn puts its control socket in ~/.gunicorn).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app

# A font covering Chinese for the QR posters' text (core/posters.py); fontconfig finds it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fontconfig fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The virtualenv's interpreter links to /usr/local/bin/python3.11 of the same base image.
COPY --from=builder /app/.venv /app/.venv
COPY . .

# Static files are collected into the image (var/staticfiles) and served by WhiteNoise.
# The SECRET_KEY here exists only for this build step; it is not kept in the image.
# var/ must stay writable for the app user (embedded broker, beat schedule, SQLite fallback).
RUN SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS='*' python manage.py collectstatic --noinput \
    && mkdir -p var \
    && chown -R app:app var

# Numeric, so Kubernetes runAsNonRoot can verify it.
USER 10001:10001

EXPOSE 8000

# Liveness: /livez answers while the process does, whatever the database or Redis do (a restart
# would not bring them back); readiness is /readyz, for load balancers (docs/deployment.md).
# Both are exempt from SECURE_SSL_REDIRECT. The request carries the first ALLOWED_HOSTS entry
# as its Host header so it is not rejected with 400 when 127.0.0.1 is not an allowed host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; hs = [h.strip() for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip() and h.strip() != '*']; host = hs[0].lstrip('.') if hs else '127.0.0.1'; r.urlopen(r.Request('http://127.0.0.1:8000/livez', headers={'Host': host}), timeout=4)"]

# Shell form via sh -c so WEB_CONCURRENCY expands; exec hands PID 1 to gunicorn for signals.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
