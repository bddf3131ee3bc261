"""Indexes, constraints and tables Piccolo's column types cannot express."""

from migrations.raw import raw_forwards

ID = "2026-11-26T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints, tree indexes, rate-limit buckets"

STATEMENTS = [
    # ---- accounts
    "CREATE UNIQUE INDEX forum_user_handle_ci ON forum_user (lower(handle)) WHERE handle IS NOT NULL",
    "CREATE UNIQUE INDEX forum_user_email_uq ON forum_user (email) WHERE email IS NOT NULL",
    "ALTER TABLE forum_user ADD CONSTRAINT forum_user_role_ck CHECK (role IN ('reader','coach','moderator','admin'))",
    "ALTER TABLE forum_user ADD CONSTRAINT forum_user_status_ck CHECK (status IN ('active','suspended','erased'))",
    "ALTER TABLE forum_user ADD CONSTRAINT forum_user_email_lower_ck CHECK (email = lower(email))",
    'CREATE INDEX user_session_user_idx ON user_session ("user")',
    'CREATE INDEX password_reset_user_idx ON password_reset ("user")',
    # ---- topics
    "CREATE UNIQUE INDEX topic_url_uq ON topic (url) WHERE url IS NOT NULL",
    "ALTER TABLE topic ADD CONSTRAINT topic_kind_ck CHECK (kind IN ('article','discussion'))",
    "ALTER TABLE topic ADD CONSTRAINT topic_comments_ck CHECK (comments_mode IN ('open','premoderated','closed'))",
    "CREATE INDEX topic_listing_idx ON topic (created_at DESC, id DESC) WHERE status = 'published'",
    "CREATE INDEX topic_kind_listing_idx ON topic (kind, created_at DESC, id DESC) WHERE status = 'published'",
    'CREATE INDEX topic_author_idx ON topic (author)',
    # ---- comments: the tree
    'ALTER TABLE comment ALTER COLUMN path TYPE varchar(2400) COLLATE "C"',
    "ALTER TABLE comment ADD CONSTRAINT comment_status_ck CHECK "
    "(status IN ('published','pending','rejected','spam','deleted'))",
    "ALTER TABLE comment ADD CONSTRAINT comment_kind_ck CHECK (kind IN ('comment','question'))",
    # a subtree in depth-first order: one range scan on (root_id, path)
    "CREATE INDEX comment_root_path_idx ON comment (root_id, path)",
    # roots of a topic in each sort order
    "CREATE INDEX comment_roots_oldest_idx ON comment (topic, created_at, id) WHERE parent IS NULL",
    "CREATE INDEX comment_roots_top_idx ON comment (topic, score DESC, created_at, id) WHERE parent IS NULL",
    "CREATE INDEX comment_topic_path_idx ON comment (topic, path)",
    "CREATE INDEX comment_parent_idx ON comment (parent)",
    "CREATE INDEX comment_author_idx ON comment (author, status, created_at)",
    "CREATE INDEX comment_questions_idx ON comment (question_status, urgent, created_at) WHERE kind = 'question'",
    "CREATE INDEX comment_revision_comment_idx ON comment_revision (comment, id)",
    'CREATE UNIQUE INDEX vote_comment_user_uq ON vote (comment, "user")',
    'CREATE INDEX vote_user_idx ON vote ("user")',
    "CREATE UNIQUE INDEX idempotency_key_uq ON idempotency_key (scope, key)",
    "CREATE INDEX idempotency_key_created_idx ON idempotency_key (created_at)",
    # ---- notifications
    'CREATE INDEX notification_user_idx ON notification ("user", id DESC)',
    'CREATE INDEX notification_unread_idx ON notification ("user") WHERE read_at IS NULL',
    "CREATE INDEX notification_comment_idx ON notification (comment)",
    "CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL",
    'CREATE INDEX question_claim_coach_idx ON question_claim (coach)',
    # ---- rate limits: shared by every process; losing them in a crash is harmless
    """
    CREATE UNLOGGED TABLE rate_limit_bucket (
        key varchar(200) PRIMARY KEY,
        window_start bigint NOT NULL DEFAULT 0,
        hits integer NOT NULL DEFAULT 0,
        last_at double precision NOT NULL DEFAULT 0
    )
    """,
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
