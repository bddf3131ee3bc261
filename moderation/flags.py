"""What flags may do to a published comment: flags are weighed by the flagger's trust.

Only trusted flaggers count toward the rules' `flag_hide_threshold`: coaches, moderators and
admins (not suspended), and readers with at least `trusted_after_approved` approved comments
(the same standing `moderation.policy` uses for posting). Flags from untrusted accounts open
the `reported` item and, once they alone would reach the threshold, raise it (reason
`flags_untrusted`), but they never hide anything. Content by coaches, moderators and admins
is never hidden by flags, only queued (reason `staff_author`). Discourse weighs flags by
trust the same way, so that a few fresh accounts cannot silence a voice.

Runs in the caller's transaction, with the comment's row locked.
"""

from __future__ import annotations

from forum import sql
from moderation import policy
from moderation.items import open_item

# A user whose effective role has staff powers (see forum.auth.Viewer.effective_role).
_STAFF = ("u.role IN ('coach', 'moderator', 'admin')"
          " AND NOT (u.status = 'suspended' AND (u.suspended_until IS NULL OR u.suspended_until > now()))")

# $1 comment, $2 trusted_after_approved: distinct open flaggers, and how many of them are trusted.
_FLAGGERS_SQL = f"""
SELECT count(*) AS flaggers,
       count(*) FILTER (WHERE {_STAFF}
           OR (SELECT count(*) FROM (SELECT 1 FROM comment a WHERE a.author = u.id
                                        AND a.first_published_at IS NOT NULL LIMIT $2) approved) >= $2
       ) AS trusted
  FROM (SELECT DISTINCT f."user" FROM flag f WHERE f.comment = $1 AND f.resolved_at IS NULL) fl
  JOIN forum_user u ON u.id = fl."user"
"""

_STAFF_AUTHOR_SQL = f"SELECT {_STAFF} FROM comment c JOIN forum_user u ON u.id = c.author WHERE c.id = $1"


async def hide_if_trusted_flags(comment_id: int) -> bool:
    """After a new flag on the published comment `comment_id`: hide it (until a moderator
    decides) when enough trusted people flagged it; True when it was hidden."""
    rules = await policy.current_rules()
    threshold = rules.flag_hide_threshold
    counts = await sql.fetchrow(_FLAGGERS_SQL, comment_id, max(rules.trusted_after_approved, 0))
    if counts is None:
        raise RuntimeError("unexpected: no counts")
    if counts["trusted"] < threshold:
        if counts["flaggers"] >= threshold:
            await open_item("reported", comment_id=comment_id, reasons=["flags", "flags_untrusted"])
        return False
    if await sql.fetchval(_STAFF_AUTHOR_SQL, comment_id):
        await open_item("reported", comment_id=comment_id, reasons=["flags", "staff_author"])
        return False
    from forum.comments import visibility  # comments import moderation

    await visibility.hide(comment_id)
    await open_item("reported", comment_id=comment_id, reasons=["flags", "hidden_by_flags"])
    return True
