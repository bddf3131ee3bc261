"""One counter for every change of how authors are shown (issue 19, scenario 9).

A cached thread page shows each comment's author by handle and role. A rename or a role
change does not move the versions of the topics where that person wrote, so every read of
a cached page used to ask for the current "handle/role" of each of the page's authors
(an index lookup per author, in every version read; tens of authors on a busy article).

`user_display_epoch` holds one number that moves whenever any account's handle or role
changes, or an account is deleted, whatever the path (the API, erasure, the console, raw
SQL): a page cached at one epoch is right while the epoch is unchanged (with the topic's
version). A rename anywhere makes every process build its cached pages once more, which,
renames being rare, costs less than checking the authors at every read.

The trigger writes with an upsert, so the counter comes back by itself after a TRUNCATE
(the test suite's reset). `thread_reader_states` (migration forum_2026_11_29t17_00_00)
returns the epoch instead of the authors and no longer takes them.
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-12-07T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts: user_display_epoch, moved by every change of a handle or role; thread_reader_states reads it"

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
         ARRAY(SELECT v.comment FROM vote v JOIN comment c ON c.id = v.comment
                WHERE v."user" = w.viewer AND c.topic = t.id)::bigint[],
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
