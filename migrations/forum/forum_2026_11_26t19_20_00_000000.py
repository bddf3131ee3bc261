"""Search columns maintained by triggers instead of STORED GENERATED expressions.

A generated `search_tsv` is recomputed by every UPDATE of its row, whatever the columns
changed: each reply updated the `reply_count` of every ancestor, each vote the `score`,
each decision the `status`, and each of them ran `to_tsvector` over the whole body again.
Now `search_tsv` is a plain column written by a BEFORE INSERT OR UPDATE OF trigger on the
columns it is built from (`body`, `search_config`, and `title` for topics): the same value
as before, computed only when those change. `forum.search.lifecycle` still re-indexes by
updating `search_config`.

Existing databases: the generated column is dropped with its partial GIN index, a plain
one is added, backfilled with the same expression, and the index is built again with the
same predicate.
"""

from migrations.raw import raw_forwards

ID = "2026-11-26T19:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search_tsv: a plain column kept by triggers (no recomputation on every UPDATE)"

# The expressions of the 19_05 migration, unchanged (a tsvector is limited to 1 MB).
COMMENT_TSV = "to_tsvector({row}.search_config, left(coalesce({row}.body, ''), 100000))"
TOPIC_TSV = (
    "setweight(to_tsvector({row}.search_config, coalesce({row}.title, '')), 'A') || "
    "setweight(to_tsvector({row}.search_config, left(coalesce({row}.body, ''), 100000)), 'B')"
)

STATEMENTS = [
    # ---- comment
    "ALTER TABLE comment DROP COLUMN search_tsv",  # drops comment_search_idx with it
    "ALTER TABLE comment ADD COLUMN search_tsv tsvector",
    f"""
    CREATE FUNCTION comment_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_tsv := {COMMENT_TSV.format(row="NEW")};
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER comment_search_tsv BEFORE INSERT OR UPDATE OF body, search_config ON comment"
    " FOR EACH ROW EXECUTE FUNCTION comment_search_tsv()",
    f"UPDATE comment SET search_tsv = {COMMENT_TSV.format(row='comment')}",
    "CREATE INDEX comment_search_idx ON comment USING gin (search_tsv) WHERE status = 'published' AND NOT private",
    # ---- topic
    "ALTER TABLE topic DROP COLUMN search_tsv",  # drops topic_search_idx with it
    "ALTER TABLE topic ADD COLUMN search_tsv tsvector",
    f"""
    CREATE FUNCTION topic_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_tsv := {TOPIC_TSV.format(row="NEW")};
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER topic_search_tsv BEFORE INSERT OR UPDATE OF title, body, search_config ON topic"
    " FOR EACH ROW EXECUTE FUNCTION topic_search_tsv()",
    f"UPDATE topic SET search_tsv = {TOPIC_TSV.format(row='topic')}",
    "CREATE INDEX topic_search_idx ON topic USING gin (search_tsv) WHERE status = 'published'",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
