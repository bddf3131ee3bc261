"""Full-text search columns and indexes; the import mapping table.

Search: each comment and topic row carries `search_config` (a regconfig, written by the
column default) and a generated `search_tsv` built with that config, so the generated
expression stays immutable while the language remains a setting: `forum.search.lifecycle`
moves the column defaults (and re-indexes rows) to `FORUM_SEARCH_LANGUAGE` at start-up.
The GIN indexes are partial: they hold exactly what search may return.

Imports: `import_source` maps an external object (a WordPress post or comment, a Disqus
thread or post) to the local row it became, so importing the same file twice creates
nothing new.
"""

from migrations.raw import raw_forwards

ID = "2026-11-26T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "full-text search columns and indexes, import_source mapping"

# Bodies are capped before indexing: a tsvector is limited to 1 MB.
STATEMENTS = [
    "ALTER TABLE comment ADD COLUMN search_config regconfig NOT NULL DEFAULT 'english'",
    "ALTER TABLE comment ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
    "(to_tsvector(search_config, left(coalesce(body, ''), 100000))) STORED",
    "CREATE INDEX comment_search_idx ON comment USING gin (search_tsv) "
    "WHERE status = 'published' AND NOT private",
    "ALTER TABLE topic ADD COLUMN search_config regconfig NOT NULL DEFAULT 'english'",
    "ALTER TABLE topic ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector(search_config, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector(search_config, left(coalesce(body, ''), 100000)), 'B')) STORED",
    "CREATE INDEX topic_search_idx ON topic USING gin (search_tsv) WHERE status = 'published'",
    """
    CREATE TABLE import_source (
        id bigserial PRIMARY KEY,
        system varchar(16) NOT NULL CHECK (system IN ('wordpress', 'disqus', 'json')),
        kind varchar(16) NOT NULL CHECK (kind IN ('topic', 'comment', 'user')),
        external_id varchar(300) NOT NULL,
        local_id bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE UNIQUE INDEX import_source_uq ON import_source (system, kind, external_id)",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
