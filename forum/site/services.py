"""The public site document and the Markdown preview.

The site document holds only what every reader may know (no setting that is a secret,
no address, no word list). The preview renders through the one renderer and sanitizer
(forum.markup.render, off the event loop within its time budget), stores nothing, and is rate-limited per client address
and per account: it costs the same work as a post.
"""

from __future__ import annotations

from typing import Any

from forum import ratelimit
from forum.accounts.services import HANDLE_RE
from forum.auth import Viewer
from forum.comments.services import SORTS
from forum.comments.validation import BODY_MAX, GUEST_NAME_MAX, clean_body
from forum.markup import ALLOWED_TAGS, render
from forum.pagination import MAX_LIMIT
from forum.settings import Settings
from forum.topics.services import COUNTS_MAX, TITLE_MAX
from moderation import policy
from moderation.schemas import FLAG_REASONS

PREVIEWS_PER_ADDRESS = 60  # per minute, from one client address (families share connections)
PREVIEWS_PER_ACCOUNT = 30  # per minute, per signed-in account
PREVIEW_DETAIL = "Too many previews; wait a moment and try again."


def _handle_bounds() -> tuple[int, int]:
    low, high = HANDLE_RE.pattern.rsplit("{", 1)[1].rstrip("}").split(",")
    return int(low), int(high)


async def site_info(settings: Settings) -> dict[str, Any]:
    rules = await policy.current_rules()
    handle_min, handle_max = _handle_bounds()
    return {
        "name": settings.site_name,
        "edit_window_minutes": rules.edit_window_minutes,
        "limits": {"comment_body": BODY_MAX, "title": TITLE_MAX, "guest_name": GUEST_NAME_MAX,
                   "handle_min": handle_min, "handle_max": handle_max, "page_size": MAX_LIMIT,
                   "counts_per_request": COUNTS_MAX},
        "guests_may_post": True,
        "guest_posts_reviewed": True,  # moderation.policy holds every guest post (reason `guest`)
        "flag_reasons": list(FLAG_REASONS),
        "support_text": rules.crisis_message or None,
        "sorts": list(SORTS),
        "default_sort": SORTS[0],
        "allowed_tags": sorted(ALLOWED_TAGS),
    }


async def preview(body: str, viewer: Viewer | None, client_ip: str) -> str:
    """The sanitized HTML a post with this body would store; nothing is written."""
    text = clean_body(body)
    limits: list[ratelimit.Window | ratelimit.Spacing] = [
        ratelimit.Window(f"preview:ip:{client_ip}", PREVIEWS_PER_ADDRESS, 60, PREVIEW_DETAIL)]
    if viewer is not None:
        limits.append(ratelimit.Window(f"preview:user:{viewer.id}", PREVIEWS_PER_ACCOUNT, 60, PREVIEW_DETAIL))
    await ratelimit.check(*limits)
    return await render(text)
