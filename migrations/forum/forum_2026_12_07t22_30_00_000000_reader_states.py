"""Thread reads that cost the same at any size (issue 19, scenarios 8 and 9): one counter
for how authors are shown, and a reader's votes in a topic by one index range.

**The display epoch.** A cached thread page shows each comment's author by handle and role.
A rename or a role change does not move the versions of the topics where that person
wrote, so every read of a cached page used to ask for the current "handle/role" of each of
the page's authors (an index lookup per author, in every version read; tens of authors on a
busy article). `user_display_epoch` holds one number that moves whenever any account's
handle or role changes, or an account is deleted, whatever the path (the API, erasure, the
console, raw SQL): a page cached at one epoch is right while the epoch is unchanged (with
the topic's version). A rename anywhere makes every process build its cached pages once
more, which, renames being rare, costs less than checking the authors at every read. The
trigger writes with an upsert, so the counter comes back by itself after a TRUNCATE (the
test suite's reset).

**The topic of a vote.** Every signed-in thread read asks for the reader's votes in the
topic. With only `vote("user")` to go on, that meant every vote the reader ever gave, each
checked against its comment's topic: cheap for a new reader, but a long-standing member
with thousands of votes paid thousands of index lookups on every read of every article.
`vote.topic` is the topic of the comment voted on, kept by triggers on every path: set
before each insert (or change of the comment voted on) from the comment, and moved with a
comment that moves to another topic (merging an article's duplicate topics). The index
`("user", topic) INCLUDE (comment)` answers the question by an index-only range scan, and
also serves every lookup by user alone (erasure, a member's own votes), so it replaces
`vote_user_idx`.

`thread_reader_states` (migration forum_2026_11_29t17_00_00) now returns the epoch instead
of the authors (and no longer takes them), and reads the votes by (user, topic).
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-12-07T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = ("accounts, comments: user_display_epoch moved by any handle/role change; vote.topic kept by"
               " triggers; thread_reader_states reads both")

STATEMENTS = [
    """
CREATE TABLE user_display_epoch (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    epoch bigint NOT NULL
)
""",
    "INSERT INTO user_display_epoch (id, epoch) VALUES (true, 1)",
    """
CREATE FUNCTION user_display_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO user_display_epoch AS e (id, epoch) VALUES (true, 1)
  ON CONFLICT (id) DO UPDATE SET epoch = e.epoch + 1;
  RETURN NULL;
END
$fn$
""",
    """
CREATE TRIGGER forum_user_display_update AFTER UPDATE OF handle, role ON forum_user
FOR EACH ROW WHEN (OLD.handle IS DISTINCT FROM NEW.handle OR OLD.role IS DISTINCT FROM NEW.role)
EXECUTE FUNCTION user_display_changed()
""",
    """
CREATE TRIGGER forum_user_display_delete AFTER DELETE ON forum_user
FOR EACH STATEMENT EXECUTE FUNCTION user_display_changed()
""",
    "ALTER TABLE vote ADD COLUMN topic integer",
    "UPDATE vote v SET topic = c.topic FROM comment c WHERE c.id = v.comment",
    # a vote whose comment is gone does not exist (ON DELETE CASCADE), so every row has one
    "ALTER TABLE vote ALTER COLUMN topic SET NOT NULL",
    """
CREATE FUNCTION vote_set_topic() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.topic := (SELECT c.topic FROM comment c WHERE c.id = NEW.comment);
  RETURN NEW;
END
$fn$
""",
    """
CREATE TRIGGER vote_topic BEFORE INSERT OR UPDATE OF comment ON vote
FOR EACH ROW EXECUTE FUNCTION vote_set_topic()
""",
    """
CREATE FUNCTION comment_moved_votes() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE vote SET topic = NEW.topic WHERE comment = NEW.id;
  RETURN NULL;
END
$fn$
""",
    """
CREATE TRIGGER comment_topic_votes AFTER UPDATE OF topic ON comment
FOR EACH ROW WHEN (OLD.topic IS DISTINCT FROM NEW.topic) EXECUTE FUNCTION comment_moved_votes()
""",
    'CREATE INDEX vote_user_topic_idx ON vote ("user", topic) INCLUDE (comment)',
    "DROP INDEX vote_user_idx",
    "DROP FUNCTION thread_reader_states(text, bigint[], bigint[])",
    """
CREATE FUNCTION thread_reader_states(p_slug text, p_viewers bigint[])
RETURNS TABLE (viewer bigint, id int, slug varchar, status varchar, author int, version bigint,
               display_epoch bigint, votes bigint[], extras text[], window_minutes int, own_ids bigint[],
               own_created timestamptz[])
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT w.viewer, t.id, t.slug, t.status, t.author, t.version,
         coalesce((SELECT e.epoch FROM user_display_epoch e), 0)::bigint,
         ARRAY(SELECT v.comment FROM vote v WHERE v."user" = w.viewer AND v.topic = t.id)::bigint[],
         ARRAY(SELECT x.id || ':' || x.row_version FROM (
                 SELECT c.id, c.xmin::text AS row_version FROM comment c
                  WHERE c.author = w.viewer AND c.topic = t.id
                    AND (c.status = 'pending' OR c.private OR c.pending_body_html IS NOT NULL)
                 UNION
                 SELECT c.id, c.xmin::text FROM comment c
                  WHERE c.private AND c.audience = w.viewer AND c.topic = t.id
               ) x ORDER BY x.id)::text[],
         r.edit_window_minutes::int, own.ids::bigint[], own.created::timestamptz[]
    FROM topic t
   CROSS JOIN unnest(p_viewers) AS w(viewer)
    LEFT JOIN LATERAL (SELECT mr.edit_window_minutes FROM moderation_rules mr LIMIT 1) r ON true
    LEFT JOIN LATERAL (
         SELECT array_agg(o.id) AS ids, array_agg(o.created_at) AS created FROM (
                SELECT c.id, c.created_at FROM comment c
                 WHERE c.author = w.viewer AND c.status = 'published' AND c.topic = t.id
                   AND c.created_at > now() - make_interval(mins => r.edit_window_minutes + 1)
                UNION ALL
                SELECT c.id, c.created_at FROM comment c
                 WHERE c.author = w.viewer AND c.status = 'pending' AND c.topic = t.id
                   AND c.created_at > now() - make_interval(mins => r.edit_window_minutes + 1)) o
         ) own ON true
   WHERE t.slug = p_slug;
END
$fn$
""",
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
