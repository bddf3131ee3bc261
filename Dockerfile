# Production image: the API on uvicorn; PostgreSQL runs separately (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 forum

COPY pyproject.toml README.md ./
COPY forum ./forum
COPY moderation ./moderation
COPY migrations ./migrations
RUN pip install . && rm -rf /root/.cache

USER forum
ENV FORUM_HOST=0.0.0.0 \
    FORUM_PORT=8000 \
    FORUM_WORKERS=4 \
    FORUM_DATA_DIR=/home/forum/data
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"

# `forum serve` applies pending migrations, then serves with FORUM_WORKERS workers.
CMD ["forum", "serve"]
