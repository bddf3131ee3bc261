"""Each author's published and rejected comments, counted as the comments change (issue 19,
scenario 11).

The moderators' queue page shows, beside every item, its author's summary: how many of
their comments are published and how many were rejected or marked spam. Counted afresh
from `comment_author_idx` for every author on every page, that was most of the page's time
on a community some years old: 2.2 ms of its 2.6 ms on the 1,000,000-comment seed (the
authors of a page had ~530 published comments each; a long-standing member has thousands).

`author_comment_count` holds the two numbers per author, kept by a trigger on `comment`
for every path that changes them (posting, moderation, edits, deletion, erasure, import,
raw SQL): any insert, update or delete of a comment whose author or status changes moves
the old row's count down and the new row's count up, in the same transaction. A decrement
only updates (never inserts), so an account deleted with its counters (ON DELETE CASCADE)
is never written back. Rows start from a count of what is there now.

A posting or deciding transaction changes one comment, so it locks one author's row; only
a transaction that moves the comments of many authors at once (an import of the forum's
own export, run into an empty forum) holds several.
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-12-07T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "comments: author_comment_count, each author's published and rejected comments, kept by a trigger"

# Every author's counts from their comments (the rows start from it; bench/bigseed.py, which
# COPYs a million comments with the row trigger off, runs it after).
RECOUNT = """
    INSERT INTO author_comment_count AS a (author, published, rejected)
    SELECT author, count(*) FILTER (WHERE status = 'published'), count(*) FILTER (WHERE status <> 'published')
      FROM comment
     WHERE author IS NOT NULL AND status IN ('published', 'rejected', 'spam')
     GROUP BY author
    ON CONFLICT (author) DO UPDATE SET published = EXCLUDED.published, rejected = EXCLUDED.rejected
"""

# The row trigger on new comments (bench/bigseed.py turns it off while it COPYs, then RECOUNTs).
INSERT_TRIGGER = "comment_author_count_insert"

STATEMENTS = [
    """
    CREATE TABLE author_comment_count (
        author bigint PRIMARY KEY REFERENCES forum_user (id) ON DELETE CASCADE,
        published integer NOT NULL DEFAULT 0,
        rejected integer NOT NULL DEFAULT 0  -- rejected or spam
    )
    """,
    """
    CREATE FUNCTION author_comment_count_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP <> 'INSERT' AND OLD.author IS NOT NULL AND OLD.status IN ('published', 'rejected', 'spam') THEN
        UPDATE author_comment_count
           SET published = published - (OLD.status = 'published')::int,
               rejected = rejected - (OLD.status <> 'published')::int
         WHERE author = OLD.author;
      END IF;
      IF TG_OP <> 'DELETE' AND NEW.author IS NOT NULL AND NEW.status IN ('published', 'rejected', 'spam') THEN
        INSERT INTO author_comment_count AS a (author, published, rejected)
        VALUES (NEW.author, (NEW.status = 'published')::int, (NEW.status <> 'published')::int)
        ON CONFLICT (author) DO UPDATE
          SET published = a.published + EXCLUDED.published, rejected = a.rejected + EXCLUDED.rejected;
      END IF;
      RETURN NULL;
    END
    $fn$
    """,
    f"CREATE TRIGGER {INSERT_TRIGGER} AFTER INSERT ON comment FOR EACH ROW"
    " WHEN (NEW.author IS NOT NULL AND NEW.status IN ('published', 'rejected', 'spam'))"
    " EXECUTE FUNCTION author_comment_count_moved()",
    # no column list: a referential action (an account deleted: author SET NULL) fires it too
    "CREATE TRIGGER comment_author_count_update AFTER UPDATE ON comment FOR EACH ROW"
    " WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.author IS DISTINCT FROM NEW.author)"
    " EXECUTE FUNCTION author_comment_count_moved()",
    "CREATE TRIGGER comment_author_count_delete AFTER DELETE ON comment FOR EACH ROW"
    " WHEN (OLD.author IS NOT NULL AND OLD.status IN ('published', 'rejected', 'spam'))"
    " EXECUTE FUNCTION author_comment_count_moved()",
    RECOUNT,
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
