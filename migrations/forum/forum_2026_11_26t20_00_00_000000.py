"""An index for the repeat-post check: the same text from the same author within minutes.

The check (`moderation.policy._REPEAT`) ran over `comment_author_idx` (author, status,
created_at), which cannot bound `status <> 'deleted'`: every post read all of its author's
comments and compared their bodies, so posting got slower with each comment an author had
written (a coach with 10,000 answers paid for all of them, a guest name for every guest
comment under it). With an index on the body's MD5 the check reads only the rows with the
same text, whoever wrote them: none, unless it is a repeat.
"""

from migrations.raw import raw_forwards

ID = "2026-11-26T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "comment_body_md5_idx: the repeat-post check reads only comments with the same text"

STATEMENTS = [
    "CREATE INDEX comment_body_md5_idx ON comment ((md5(body)::uuid))",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
