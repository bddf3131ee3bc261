"""The outbox carries on-call webhooks too: a `webhook` row has no recipient user (the
URL is read from the settings at send time, never stored)."""

from migrations.raw import raw_forwards

ID = "2026-11-29T11:03:16:000416"
VERSION = "1.38.0"
DESCRIPTION = "email_outbox: webhook rows without a user"

STATEMENTS = [
    'ALTER TABLE email_outbox ALTER COLUMN "user" DROP NOT NULL',
    'ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_user_ck CHECK ("user" IS NOT NULL OR kind = \'webhook\')',
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
