"""Signed-in thread reads (issue 19): what only one reader sees in a topic, found by index.

Each signed-in reader's thread read asks for their own comments there that the public does
not see (pending, private, or with an edit held for moderation) and the private comments
addressed to them (forum/comments/reads.py, READER_SQL). Two small partial indexes answer
both in a few index entries, whatever the size of the topic or the author's history.
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-11-29T16:04:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "comments: partial indexes for what only one reader sees in a topic"

STATEMENTS = [
    "CREATE INDEX comment_own_unpublic_idx ON comment (author, topic)"
    " WHERE status = 'pending' OR private OR pending_body_html IS NOT NULL",
    "CREATE INDEX comment_private_audience_idx ON comment (audience, topic) WHERE private",
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
