"""Topic version bumps applied at commit, not when the change is made.

Every write that changes what a topic shows bumps `topic.version` (and adjusts
`comment_count`) and sends a NOTIFY (`forum.events.topic_changed`). Done with an UPDATE
of the topic row in the middle of the transaction, it held that row's lock from there to
the commit, across the round trips and the writer's other work: concurrent posts and
decisions in one topic queued behind each other for all that time (bench: four of five
busy backends waited on that lock).

Now `topic_changed()` inserts a row into `topic_change`, an UNLOGGED table whose rows live
only inside their transaction: a deferred constraint trigger applies each one when the
transaction commits (the UPDATE and the NOTIFY, as before) and deletes it. The topic row
is locked only during the commit itself; an aborted transaction leaves nothing.

The channel is `forum.events.CHANNEL` ('forum_events'), the payload the same JSON as before:
{"t": topic, "v": new version, "e": kind, "c": comment or null}.
"""

from migrations.raw import raw_forwards

ID = "2026-11-26T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "topic_change: topic version bumps and their NOTIFY applied at commit"

STATEMENTS = [
    """
    CREATE UNLOGGED TABLE topic_change (
        id bigserial PRIMARY KEY,
        topic bigint NOT NULL,
        kind text NOT NULL,
        comment bigint,
        count_delta integer NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE FUNCTION topic_change_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        new_version bigint;
    BEGIN
        UPDATE topic SET version = version + 1, comment_count = comment_count + NEW.count_delta
         WHERE id = NEW.topic RETURNING version INTO new_version;
        IF FOUND THEN
            PERFORM pg_notify('forum_events', json_build_object(
                't', NEW.topic, 'v', new_version, 'e', NEW.kind, 'c', NEW.comment)::text);
        END IF;
        DELETE FROM topic_change WHERE id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    "CREATE CONSTRAINT TRIGGER topic_change_apply AFTER INSERT ON topic_change"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION topic_change_apply()",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
