"""Static assets: files inside the package, served at `/static/<tree-hash>/<path>`.

The tree hash is a short digest of the whole static tree (every file's path and bytes),
computed once per process, so every URL is content-addressed (cached for a year,
immutable) and relative ES-module imports between assets keep working. `asset_url(path)`
is the one way to name an asset in a page."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


@functools.cache
def tree_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


_public_path = ""  # the path prefix of FORUM_PUBLIC_URL (`/comments`), "" at the root


def set_public_path(prefix: str) -> None:
    """Called by create_app: behind a reverse proxy that serves the forum under a path prefix
    (and strips it before passing requests on), every URL a page names carries the prefix."""
    global _public_path
    _public_path = "/" + prefix.strip("/") if prefix.strip("/") else ""


def public_path() -> str:
    return _public_path


def asset_url(path: str) -> str:
    """The URL of a static asset, e.g. `asset_url("css/base.css")`."""
    return f"{_public_path}/static/{tree_hash()}/{path.lstrip('/')}"


def find_asset(path: str) -> Path | None:
    """The file for a path under the static tree, or None (unknown type, missing, or outside it)."""
    relative = path.lstrip("/")
    if not relative or "\\" in relative or "\0" in relative:
        return None
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
        return None
    if candidate.suffix not in CONTENT_TYPES and candidate.name not in ("LICENSE", "LICENSE.txt"):
        return None
    return candidate


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8")
