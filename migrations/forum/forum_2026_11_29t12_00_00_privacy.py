"""Privacy and availability (issue 14).

- `email_confirmation`: an address waits here until its owner opens the mailed single-use
  link (only the token's SHA-256 is stored); `email_outbox.confirmation` names the row whose
  address a confirmation email goes to (the outbox itself never holds an address).
- `erased_handle`: the keyed hash (HMAC with the secret key) of an erased account's handle,
  held for FORUM_ERASED_HANDLE_HOLD_DAYS so nobody takes the name of a known voice at once.
- `rate_limit_bucket.expires_at`: when a bucket stops mattering (seconds since the epoch),
  so a periodic sweep removes it; keys are keyed hashes from now on, so the old rows
  (unsalted hashes, client addresses in clear) are dropped.
- `idempotency_key.comment`: the comment a stored answer created, so the answer goes when
  that comment is deleted; `gone` marks a key whose answer was dropped.
"""

from migrations.raw import raw_forwards

ID = "2026-11-29T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "email confirmation, erased-handle holds, expiring keyed rate-limit buckets, idempotency answers"

STATEMENTS = [
    """
    CREATE TABLE email_confirmation (
        id bigserial PRIMARY KEY,
        "user" bigint NOT NULL REFERENCES forum_user (id) ON DELETE CASCADE,
        email varchar(254) NOT NULL CHECK (email = lower(email)),
        token_hash varchar(64) UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
    )
    """,
    'CREATE INDEX email_confirmation_user_idx ON email_confirmation ("user")',
    "CREATE INDEX email_confirmation_expires_idx ON email_confirmation (expires_at)",
    "ALTER TABLE email_outbox ADD COLUMN confirmation bigint"
    " REFERENCES email_confirmation (id) ON DELETE CASCADE",
    "CREATE INDEX email_outbox_confirmation_idx ON email_outbox (confirmation) WHERE confirmation IS NOT NULL",
    """
    CREATE TABLE erased_handle (
        handle_hash varchar(64) PRIMARY KEY,
        held_until timestamptz NOT NULL
    )
    """,
    "DELETE FROM rate_limit_bucket",
    "ALTER TABLE rate_limit_bucket ADD COLUMN expires_at double precision NOT NULL DEFAULT 0",
    "CREATE INDEX rate_limit_bucket_expires_idx ON rate_limit_bucket (expires_at)",
    "ALTER TABLE idempotency_key ADD COLUMN comment bigint REFERENCES comment (id) ON DELETE CASCADE",
    "ALTER TABLE idempotency_key ADD COLUMN gone boolean NOT NULL DEFAULT false",
    "CREATE INDEX idempotency_key_comment_idx ON idempotency_key (comment) WHERE comment IS NOT NULL",
]


forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
