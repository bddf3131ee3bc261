"""Flags are resolved by a decision (dismissed or acted on): only unresolved flags count
towards the hide threshold and show on the reported queue."""

from migrations.raw import raw_forwards

ID = "2026-11-26T19:03:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "flag.resolved_at, open flag index"

STATEMENTS = [
    # flag.resolved_at itself is added by the 18_41 migration (Piccolo tracks it there)
    "CREATE INDEX flag_open_comment_idx ON flag (comment) WHERE resolved_at IS NULL",
    "ALTER TABLE flag ADD CONSTRAINT flag_reason_ck CHECK (reason IN ('spam','abuse','selling_or_sourcing',"
    "'dangerous_advice','personal_information','self_harm_risk','off_topic','other'))",
    "ALTER TABLE moderation_item ADD CONSTRAINT moderation_item_status_ck CHECK (status IN ('open','decided'))",
    "CREATE INDEX moderation_item_claimed_idx ON moderation_item (claimed_by) WHERE status = 'open'",
]


forwards = raw_forwards(ID, "moderation", DESCRIPTION, STATEMENTS)
