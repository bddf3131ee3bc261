"""Pending revisions: an edit the moderation rules would hold waits beside the published text.

An edit is a new draft (moderation.policy.evaluate). When the rules would hold it, the new
text goes into `pending_body` / `pending_body_html` (with `pending_edited_at`) instead of
`body`: the author reads it (marked `edit_pending`), everyone else keeps reading the last
approved text until a moderator approves (the pending text replaces `body`, the old one
becomes a revision) or rejects (the pending text is dropped). The open `pending` item of the
comment carries the reason `edit`; the queue shows a diff of both texts.
"""

from migrations.raw import raw_forwards

ID = "2026-11-29T11:07:41:140001"
VERSION = "1.38.0"
DESCRIPTION = "comment: pending revision columns (edits held by the moderation rules)"

STATEMENTS = [
    "ALTER TABLE comment ADD COLUMN pending_body text",
    "ALTER TABLE comment ADD COLUMN pending_body_html text",
    "ALTER TABLE comment ADD COLUMN pending_edited_at timestamptz",
    "ALTER TABLE comment ADD CONSTRAINT comment_pending_revision_whole CHECK"
    " ((pending_body IS NULL) = (pending_body_html IS NULL))",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
