"""Account erasure, the comments side: no text and no name of the user stays behind.

Set-based (a handful of statements whatever the number of comments), inside the
caller's transaction:
- the user's comments become `deleted` tombstones without text or author; those that
  have no replies are then removed (peeling chains of the user's own replies layer by
  layer), and every revision of them goes;
- counts (`reply_count` on ancestors, `topic.comment_count`) lose the user's public
  comments; the user's tombstones that stay have their `reply_count` counted again;
  helpful votes the user cast are withdrawn and the scores fixed;
- the user's topics stay (articles are the organisation's) without author; a discussion
  also loses its text, which the user wrote;
- every affected topic's version is bumped.
"""

from __future__ import annotations

from collections import Counter

from forum import events, sql
from forum.comments import tree

ERASED_DISCUSSION_TITLE = "Deleted discussion"


async def erase_user_content(user_id: int) -> None:
    from moderation import crisis

    touched: set[int] = set()
    # the person still needs an answer: urgent items stay open, without the text
    await crisis.withdraw_authored_by(user_id)

    public = await sql.fetch(
        "SELECT id, path, topic FROM comment WHERE author = $1 AND status = 'published' AND NOT private", user_id)
    ancestor_delta: Counter[int] = Counter()
    topic_delta: Counter[int] = Counter()
    own = {r["id"] for r in public}
    for r in public:
        topic_delta[r["topic"]] += 1
        for ancestor in tree.ids_of(r["path"])[:-1]:
            if ancestor not in own:  # the user's own comments are going anyway
                ancestor_delta[ancestor] += 1
    if ancestor_delta:
        await sql.execute(
            "UPDATE comment SET reply_count = greatest(comment.reply_count - d.n, 0)"
            " FROM unnest($1::bigint[], $2::int[]) AS d(id, n) WHERE comment.id = d.id",
            list(ancestor_delta), list(ancestor_delta.values()))
    if topic_delta:
        await sql.execute(
            "UPDATE topic SET comment_count = greatest(topic.comment_count - d.n, 0)"
            " FROM unnest($1::bigint[], $2::int[]) AS d(id, n) WHERE topic.id = d.id",
            list(topic_delta), list(topic_delta.values()))

    # votes the user cast
    voted = await sql.fetch(
        "WITH gone AS (DELETE FROM vote WHERE \"user\" = $1 RETURNING comment)"
        " UPDATE comment SET score = greatest(comment.score - g.n, 0)"
        " FROM (SELECT comment, count(*)::int AS n FROM gone GROUP BY comment) g"
        " WHERE comment.id = g.comment RETURNING comment.topic", user_id)
    touched.update(r["topic"] for r in voted)

    # the user's comments: text and revisions gone, then tombstones without author
    await sql.execute("DELETE FROM comment_revision WHERE comment IN (SELECT id FROM comment WHERE author = $1)",
                      user_id)
    stoned = await sql.fetch(
        "UPDATE comment SET status = 'deleted', body = '', body_html = '', author = NULL, guest_name = NULL,"
        " pending_body = NULL, pending_body_html = NULL, pending_edited_at = NULL,"
        " deleted_at = coalesce(deleted_at, clock_timestamp()) WHERE author = $1 RETURNING id, topic", user_id)
    touched.update(r["topic"] for r in stoned)
    ids = [r["id"] for r in stoned]
    # remove the tombstones nobody replied to; each round frees the parents of the last
    while ids:
        removed = await sql.fetch(
            "DELETE FROM comment c WHERE c.id = ANY($1::bigint[])"
            " AND NOT EXISTS (SELECT 1 FROM comment ch WHERE ch.parent = c.id) RETURNING c.id", ids)
        if not removed:
            break
        gone = {r["id"] for r in removed}
        ids = [i for i in ids if i not in gone]
    # the tombstones that stay: their reply_count still counted the user's own public
    # replies (skipped above because they were going): count their public descendants again
    if ids:
        await sql.execute(
            "UPDATE comment t SET reply_count = (SELECT count(*) FROM comment d WHERE d.root_id = t.root_id"
            " AND d.path > t.path AND d.path LIKE t.path || '%' AND d.status = 'published' AND NOT d.private)"
            " WHERE t.id = ANY($1::bigint[])", ids)

    topics = await sql.fetch(
        "UPDATE topic SET author = NULL,"
        " title = CASE WHEN kind = 'discussion' THEN $2 ELSE title END,"
        # a discussion's slug was made from the words its author wrote
        " slug = CASE WHEN kind = 'discussion' THEN 'deleted-discussion-' || id ELSE slug END,"
        " body = CASE WHEN kind = 'discussion' THEN '' ELSE body END,"
        " body_html = CASE WHEN kind = 'discussion' THEN '' ELSE body_html END,"
        " updated_at = clock_timestamp() WHERE author = $1 RETURNING id", user_id, ERASED_DISCUSSION_TITLE)
    touched.update(r["id"] for r in topics)
    touched.update(topic_delta)
    for topic_id in sorted(touched):
        await events.topic_changed(topic_id, kind=events.CHANGE)
