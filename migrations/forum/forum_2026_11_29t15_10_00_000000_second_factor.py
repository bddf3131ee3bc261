"""Two-factor sign-in (issue 16).

- `second_factor`: one TOTP secret per account (RFC 6238, 30-second steps, 6 digits);
  `confirmed_at` is null while enrolment waits for the first good code (such a row does
  not guard the login); `last_step` is the time step of the last code accepted, so a code
  is good once.
- `recovery_code`: single-use codes given at enrolment; only a keyed hash is stored.
- `login_challenge`: the short-lived proof that the password was right, traded with a
  code for a session (POST /api/auth/login/second-factor); only the token's SHA-256 is stored.
"""

from migrations.raw import raw_forwards

ID = "2026-11-29T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "second factor: TOTP secrets, recovery codes, login challenges"

STATEMENTS = [
    """
    CREATE TABLE second_factor (
        "user" bigint PRIMARY KEY REFERENCES forum_user (id) ON DELETE CASCADE,
        secret varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        confirmed_at timestamptz,
        last_step bigint NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE TABLE recovery_code (
        id bigserial PRIMARY KEY,
        "user" bigint NOT NULL REFERENCES forum_user (id) ON DELETE CASCADE,
        code_hash varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        UNIQUE ("user", code_hash)
    )
    """,
    """
    CREATE TABLE login_challenge (
        id bigserial PRIMARY KEY,
        "user" bigint NOT NULL REFERENCES forum_user (id) ON DELETE CASCADE,
        token_hash varchar(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        failures integer NOT NULL DEFAULT 0
    )
    """,
    'CREATE INDEX login_challenge_user_idx ON login_challenge ("user")',
    "CREATE INDEX login_challenge_expires_idx ON login_challenge (expires_at)",
]

forwards = raw_forwards(ID, "forum", DESCRIPTION, STATEMENTS)
