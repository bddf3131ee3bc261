"""Articles get their threads by themselves (issue 18): the site's system author, where an
automatic topic came from, and the addresses merged topics keep answering to.

- `forum_user.status = 'system'`: the one account that authors the threads the service
  creates by itself (first sight, feed sync). It never has a password or an email (a
  CHECK constraint), so it can never sign in, be invited or reset; at most one exists.
- `topic.origin`: `first_sight` or `feed` for a topic the service created, NULL for one a
  person created (only automatic, empty threads may be deleted by an admin).
- `topic.merged_into`: a merged topic stays as a tombstone (status `deleted`) naming the
  topic its comments went to.
- `topic_alias`: an address that names a topic besides its own `url` (a merged topic's);
  every lookup by address reads it (forum.topics.services.resolve_urls).
"""

from __future__ import annotations

from migrations.raw import raw_forwards

ID = "2026-11-29T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "articles: system author, topic origin and tombstones, topic aliases"

STATEMENTS = [
    "ALTER TABLE forum_user DROP CONSTRAINT forum_user_status_ck",
    "ALTER TABLE forum_user ADD CONSTRAINT forum_user_status_ck"
    " CHECK (status IN ('active', 'suspended', 'erased', 'system'))",
    "ALTER TABLE forum_user ADD CONSTRAINT forum_user_system_cannot_sign_in"
    " CHECK (status <> 'system' OR (password_hash IS NULL AND email IS NULL))",
    "CREATE UNIQUE INDEX forum_user_one_system ON forum_user ((true)) WHERE status = 'system'",
    "ALTER TABLE topic ADD COLUMN origin varchar(16) NULL",
    "ALTER TABLE topic ADD COLUMN merged_into integer NULL REFERENCES topic (id) ON DELETE SET NULL",
    """CREATE TABLE topic_alias (
        id serial PRIMARY KEY,
        url varchar(2000) NOT NULL UNIQUE,
        topic integer NOT NULL REFERENCES topic (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX topic_alias_topic_idx ON topic_alias (topic)",
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
