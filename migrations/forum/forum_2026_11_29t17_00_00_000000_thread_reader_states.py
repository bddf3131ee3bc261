"""Signed-in thread reads (issue 19, scenario 8): the readers' state as one function with a
generic plan, for many readers at once.

Every signed-in thread read asks one question (forum/comments/reads.py): the topic, its
cached page's authors, and what is the reader's own there (votes, what only they see, their
comments still in the edit window). Readers of the same page asking at the same moment
share one call (forum/coalesce.py `fetch_item`): `p_viewers` holds them all and the
function returns one row per reader, the reader's id first.

As a prepared statement PostgreSQL planned the query afresh on every call: its generic plan
is *estimated* dearer than a custom one (the author array and the readers are unknown to
it), so the plan cache never switched to it, and planning cost about 2 ms against 0.3 ms of
execution (bench/README.md, scenario 8). In a PL/pgSQL function with
`plan_cache_mode = force_generic_plan`, the query is planned once per connection and every
call only executes it; the plan is the same index lookups.

`#variable_conflict use_column`: the output columns' names never shadow a table's column.
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-11-29T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "comments: thread_reader_states(), signed-in readers' thread state with a generic plan"

STATEMENTS = [
    """
CREATE FUNCTION thread_reader_states(p_slug text, p_authors bigint[], p_viewers bigint[])
RETURNS TABLE (viewer bigint, id int, slug varchar, status varchar, author int, version bigint, authors text[],
               votes bigint[], extras text[], window_minutes int, own_ids bigint[],
               own_created timestamptz[])
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT w.viewer, t.id, t.slug, t.status, t.author, t.version,
         (SELECT array_agg(coalesce(u.handle, '') || '/' || u.role ORDER BY u.id)
            FROM forum_user u WHERE u.id = ANY(p_authors))::text[],
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
