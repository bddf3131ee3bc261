""""Try a text": the verdict the posting policy would give a text, without posting it.

It runs `moderation.policy.evaluate` itself (one verdict, no second copy of a rule) on a
trial draft: no repeat check, no posting limit, nothing stored, nobody alerted. The author is
imagined: a guest, a new reader (no approved comments yet) or a trusted reader. The answer
also names the first entry of each word list the text matched, so the console can point at it.
"""

from __future__ import annotations

from typing import Any, Literal

from forum.auth import Viewer
from forum.errors import ContentRefused
from forum.textnorm import post_readings
from moderation import policy

TrialAuthor = Literal["guest", "new_reader", "trusted_reader"]
_TRIAL_READER = Viewer(id=0, handle="trial", role="reader", status="active", suspended_until=None, session_id=0)


async def try_text(body: str, author: TrialAuthor = "new_reader", topic_mode: str = "open") -> dict[str, Any]:
    """{outcome: published | pending | refused, reasons, urgent, support, matched, links}."""
    rules, matchers = await policy.current_rules(), await policy.current_matchers()
    approved = rules.trusted_after_approved if author == "trusted_reader" else 0
    viewer = None if author == "guest" else _TRIAL_READER
    draft = policy.Draft(author=viewer, guest_name="trial" if viewer is None else None, body=body, body_html=None,
                         target="comment", topic_mode=topic_mode, trial=True)
    facts = policy.Facts(version=rules.version, repeated=False, approved=approved, rejected_recent=0)
    from forum.markup import render

    body_html = await render(body)
    readings = post_readings(body_html, "")
    matched = {name: found for name, matcher in (("banned", matchers.banned), ("suspect", matchers.suspect),
                                                 ("crisis", matchers.crisis))
               if (found := matcher.find_any(readings)) is not None}
    base = {"matched": matched, "links": policy.count_links(body_html), "author": author}
    try:
        verdict = await policy.evaluate(draft, facts)
    except ContentRefused as refused:
        return {**base, "outcome": "refused", "reasons": [refused.extra.get("rule", "banned_words")],
                "urgent": "crisis" in matched, "support": None}
    return {**base, "outcome": verdict.status, "reasons": verdict.reasons, "urgent": verdict.urgent,
            "support": verdict.support}
