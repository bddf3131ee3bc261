"""Append-only audit log, one open item per target and queue, default rules."""

from migrations.raw import raw_forwards

ID = "2026-11-26T18:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit log trigger, queue indexes, default rules"

DEFAULT_CRISIS_MESSAGE = (
    "It sounds like things are very hard right now. You are not alone. If you or someone "
    "you love is in danger, call your local emergency number now. You can also reach a "
    "crisis line at any hour; our coaches read every message and will reply here."
)

STATEMENTS = [
    # History cannot be rewritten, not even by a bug in this application.
    """
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND current_setting('forum.allow_audit_truncate', true) = 'on' THEN
            RETURN NULL;  -- test suites reset the database between tests
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
    "CREATE INDEX audit_log_created_idx ON audit_log (id DESC)",
    "CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC)",
    "CREATE INDEX audit_log_target_idx ON audit_log (target_id, id DESC)",
    "CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC)",
    # ---- queue items
    "ALTER TABLE moderation_item ADD CONSTRAINT moderation_item_queue_ck"
    " CHECK (queue IN ('pending','reported','urgent'))",
    "ALTER TABLE moderation_item ADD CONSTRAINT moderation_item_target_ck CHECK ("
    "(target_type = 'comment' AND comment IS NOT NULL) OR (target_type = 'topic' AND topic IS NOT NULL))",
    "CREATE UNIQUE INDEX moderation_item_open_comment_uq ON moderation_item (comment, queue) "
    "WHERE status = 'open' AND comment IS NOT NULL",
    "CREATE UNIQUE INDEX moderation_item_open_topic_uq ON moderation_item (topic, queue) "
    "WHERE status = 'open' AND topic IS NOT NULL",
    "CREATE INDEX moderation_item_queue_idx ON moderation_item (queue, created_at, id) WHERE status = 'open'",
    "CREATE INDEX moderation_item_comment_idx ON moderation_item (comment)",
    "CREATE INDEX moderation_item_topic_idx ON moderation_item (topic)",
    # ---- flags
    'CREATE UNIQUE INDEX flag_comment_user_uq ON flag (comment, "user")',
    'CREATE INDEX flag_user_idx ON flag ("user")',
    # ---- the one row of rules
    "CREATE UNIQUE INDEX moderation_rules_single_row ON moderation_rules ((true))",
]

STEPS = [
    *STATEMENTS,
    (
        "INSERT INTO moderation_rules (banned_words, suspect_words, crisis_words, max_links_untrusted,"
        " trusted_after_approved, flag_hide_threshold, edit_window_minutes, premoderate_all,"
        " crisis_message, updated_at) VALUES ({}, {}, {}, 2, 2, 3, 15, false, {}, now())",
        [[], [], [], DEFAULT_CRISIS_MESSAGE],
    ),
]


forwards = raw_forwards(ID, "moderation", DESCRIPTION, STEPS)
