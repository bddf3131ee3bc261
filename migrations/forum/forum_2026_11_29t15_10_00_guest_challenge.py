"""Used guest challenges (issue 15): a solved ALTCHA challenge verifies as often as it is
sent, so each one is spent once. A row names the challenge by its HMAC signature until it
would have expired anyway (then it is swept)."""

from migrations.raw import raw_forwards

ID = "2026-11-29T15:10:01:000000"  # 15:10:00 is also the second-factor migration's ID (console)
VERSION = "1.38.0"
DESCRIPTION = "guest_challenge_used: a solved guest challenge is spent once"

STATEMENTS = [
    """
    CREATE TABLE guest_challenge_used (
        signature varchar(128) PRIMARY KEY,
        expires_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX guest_challenge_used_expires_idx ON guest_challenge_used (expires_at)",
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
