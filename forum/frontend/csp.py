"""The one place that builds the security headers of HTML pages and browser assets.

Every page gets a strict Content-Security-Policy (scripts and styles from the forum's own
origin only, no inline script, no third party), and `frame-ancestors` either the
origins allowed to embed the widget (FORUM_EMBED_ORIGINS, for the embed page) or 'none'."""

from __future__ import annotations

from collections.abc import Sequence

_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
)
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=(), interest-cohort=()")


def content_security_policy(frame_ancestors: Sequence[str] = (), *, worker_src: bool = False) -> str:
    """The CSP of a page; `frame_ancestors` empty means no page may frame it.
    `worker_src` allows workers from the forum's own origin (the guest challenge's solver)."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    workers = "worker-src 'self'; " if worker_src else ""
    return f"{_POLICY}{workers}frame-ancestors {ancestors}"


def page_headers(frame_ancestors: Sequence[str] = (), *, worker_src: bool = False) -> dict[str, str]:
    """Every header an HTML page of the forum carries (beside the outer layer's)."""
    return {
        "Content-Security-Policy": content_security_policy(frame_ancestors, worker_src=worker_src),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cache-Control": "no-store",
    }
