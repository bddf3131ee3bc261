"""Request and response schemas of the accounts API (msgspec Structs).

Request structs ignore unknown fields on purpose (a client sending `role` gets nothing
from it: the service sets the role), and carry only type checks and generous length
caps; the rules with readable, field-naming messages live in the services.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

# Caps far above the rules, so absurd input is refused before any work is done.
_Short = Annotated[str, msgspec.Meta(max_length=320)]
_Secret = Annotated[str, msgspec.Meta(max_length=1024)]

# Closed sets (the database's CHECK constraints); each is an enum in the OpenAPI document.
Role = Literal["reader", "coach", "moderator", "admin"]
AccountStatus = Literal["active", "suspended", "erased"]


class UserRef(msgspec.Struct):
    """`user` in responses: `{id, handle, role}` (the one shape every domain uses; the
    handle is null once the account is erased)."""

    id: int
    handle: str | None
    role: Role


class RegisterIn(msgspec.Struct):
    handle: _Short
    password: _Secret
    email: _Short | None = None


class LoginIn(msgspec.Struct):
    login: _Short
    password: _Secret


class AuthOut(msgspec.Struct):
    token: str
    user: UserRef


class MeOut(msgspec.Struct):
    id: int
    handle: str | None
    email: str | None
    role: Role
    status: AccountStatus  # active | suspended (a timed suspension that has passed reads as active)
    created_at: datetime
    notify_email: bool
    suspended_until: datetime | None
    suspension_reason: str | None
    # an address waiting for its owner to open the mailed confirmation link (email is
    # attached only then); null when none waits or when mail is not configured
    pending_email: str | None = None


class ConfirmEmailIn(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(max_length=200)]


class MePatch(msgspec.Struct):
    """Every field optional; `email: null` removes the address."""

    handle: _Short | msgspec.UnsetType = msgspec.UNSET
    email: _Short | msgspec.UnsetType | None = msgspec.UNSET
    password: _Secret | msgspec.UnsetType = msgspec.UNSET
    current_password: _Secret | msgspec.UnsetType = msgspec.UNSET
    notify_email: bool | msgspec.UnsetType = msgspec.UNSET


class MeErase(msgspec.Struct):
    """DELETE /api/me: the password of an account that has one."""

    current_password: _Secret | None = None


class ProfileOut(msgspec.Struct):
    """Public profile: never an email, never the account status."""

    id: int
    handle: str | None
    role: Role
    created_at: datetime


class RoleChangeIn(msgspec.Struct):
    role: Role


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]


class InviteOut(msgspec.Struct):
    """The invited account; the link went to its new address, never to the admin."""
    id: int
    handle: str | None


class AdminUserOut(msgspec.Struct):
    """What an admin sees after a role change (admin-only view)."""

    id: int
    handle: str | None
    role: Role
    status: AccountStatus
    created_at: datetime


class ExportOut(msgspec.Struct):
    """Everything stored about the caller (GET /api/me/export)."""

    exported_at: datetime
    profile: dict[str, Any]
    sessions: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    notifications: list[dict[str, Any]]


# ---------------------------------------------------------------- two-factor sign-in

_Code = Annotated[str, msgspec.Meta(max_length=64)]


class SecondFactorStatusOut(msgspec.Struct):
    enabled: bool
    confirmed_at: datetime | None
    recovery_codes_left: int
    # FORUM_STAFF_2FA=required and the account is staff: the console asks it to enrol
    required: bool


class SecondFactorStartOut(msgspec.Struct):
    """Shown once while enrolling: the secret to type in, its otpauth:// URI, and the same
    URI as a QR code (an SVG `data:` URI made by the server)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class SecondFactorCodeIn(msgspec.Struct):
    code: _Code


class RecoveryCodesOut(msgspec.Struct):
    """Single-use codes, shown this once (only keyed hashes are stored)."""

    recovery_codes: list[str]


class SecondFactorDisableIn(msgspec.Struct):
    current_password: _Secret
    code: _Code | None = None
    recovery_code: _Code | None = None


class RecoveryCodesIn(msgspec.Struct):
    current_password: _Secret
    code: _Code


class LoginSecondFactorIn(msgspec.Struct):
    challenge: _Short
    code: _Code | None = None
    recovery_code: _Code | None = None
