"""Accounts: users (pseudonymous; email optional), sessions, password resets."""

from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="forum_user"):
    # null once the account is erased (the row stays as an anonymous husk for foreign keys)
    handle = Varchar(length=30, null=True, default=None)
    # lower-case; unique (partial index); never in any public payload
    email = Varchar(length=254, null=True, default=None)
    password_hash = Text(null=True, default=None)
    role = Varchar(length=16, default="reader")  # reader | coach | moderator | admin
    status = Varchar(length=16, default="active")  # active | suspended | erased
    suspended_until = Timestamptz(null=True, default=None)  # null with status suspended = until lifted
    suspension_reason = Text(null=True, default=None)
    notify_email = Boolean(default=False)  # email notifications are opt-in
    created_at = Timestamptz(default=TimestamptzNow())
    erased_at = Timestamptz(null=True, default=None)


class Session(Table, tablename="user_session"):
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)  # sha256 hex of the bearer token
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()  # absolute expiry
    idle_expires_at = Timestamptz()  # sliding expiry


class PasswordReset(Table, tablename="password_reset"):
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
