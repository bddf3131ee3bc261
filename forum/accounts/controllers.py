"""HTTP routes of accounts: register, login, logout, the caller's account, profiles, roles."""

from __future__ import annotations

from typing import Any

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from forum.accounts import addresses, secondfactor, services
from forum.accounts.schemas import (
    AdminUserOut,
    AuthOut,
    ConfirmEmailIn,
    ExportOut,
    InviteIn,
    InviteOut,
    LoginIn,
    LoginSecondFactorIn,
    MeErase,
    MeOut,
    MePatch,
    ProfileOut,
    RecoveryCodesIn,
    RecoveryCodesOut,
    RegisterIn,
    RoleChangeIn,
    SecondFactorCodeIn,
    SecondFactorDisableIn,
    SecondFactorStartOut,
    SecondFactorStatusOut,
)
from forum.auth import Viewer, requires_admin, requires_user
from forum.pagination import Id


class AuthController(Controller):
    path = "/api/auth"
    tags = ("accounts",)

    @post("/register", operation_id="register_user", status_code=HTTP_201_CREATED)
    async def register_user(self, data: JSONBody[RegisterIn], client_ip: NamedDependency[str]) -> AuthOut:
        """Create an account (role `reader`) and sign in. Email is optional: it is attached
        once its owner confirms it through a mailed link, and the answer is the same whether
        or not the address already has an account. A handle that reads as a staff title
        (coach, moderator, admin...) or as a word the forum shows itself (deleted, guest...),
        or that an erased account had within the hold period, is refused with 409, like a taken one."""
        return await services.register(data.handle, data.password, data.email, client_ip)

    @post("/confirm-email", operation_id="confirm_email", status_code=HTTP_204_NO_CONTENT)
    async def confirm_email(self, data: JSONBody[ConfirmEmailIn]) -> None:
        """Attach an email address with the single-use token mailed to it (the link
        `{FORUM_PUBLIC_URL}/confirm-email?token=...`, valid 24 hours). 400 for an unknown,
        used or expired token; 409 when another account took the address meanwhile."""
        await addresses.confirm(data.token)

    @post("/login", operation_id="login_user", status_code=HTTP_200_OK)
    async def login_user(self, data: JSONBody[LoginIn], client_ip: NamedDependency[str]) -> AuthOut:
        """Sign in with handle or email. One 401 message for an unknown login and a wrong password."""
        return await services.login(data.login, data.password, client_ip)

    @post("/login/second-factor", operation_id="login_second_factor", status_code=HTTP_200_OK)
    async def login_second_factor(self, data: JSONBody[LoginSecondFactorIn]) -> AuthOut:
        """Finish a sign-in that answered 401 `second_factor_required`: the `challenge` from that
        answer (valid five minutes, five wrong codes) with a `code` from the authenticator app
        or one `recovery_code`. 400 for a wrong or used code; 401 for an unknown or spent challenge."""
        return await services.login_second_factor(data.challenge, data.code, data.recovery_code)

    @post("/logout", operation_id="logout_user", status_code=HTTP_204_NO_CONTENT, guards=[requires_user])
    async def logout_user(self, user: NamedDependency[Viewer]) -> None:
        """Revoke the token of this request (other sessions stay signed in)."""
        await services.logout(user)

    @post("/logout-everywhere", operation_id="logout_everywhere", status_code=HTTP_204_NO_CONTENT,
          guards=[requires_user])
    async def logout_everywhere(self, user: NamedDependency[Viewer]) -> None:
        """Revoke every session of the caller's account, this one included (a lost phone,
        a shared computer): every device must sign in again."""
        await services.logout_everywhere(user)


class MeController(Controller):
    path = "/api/me"
    tags = ("accounts",)
    guards = (requires_user,)

    @get("/", operation_id="get_me")
    async def get_me(self, user: NamedDependency[Viewer]) -> MeOut:
        """The caller's own account, with their email address."""
        return await services.get_me(user)

    @patch("/", operation_id="update_me")
    async def update_me(self, user: NamedDependency[Viewer], data: JSONBody[MePatch]) -> MeOut:
        """Change handle, email, password (both need `current_password`) or `notify_email`.
        A password change signs out every other session."""
        return await services.update_me(user, data)

    @delete("/", operation_id="delete_me", status_code=HTTP_204_NO_CONTENT)
    async def delete_me(self, user: NamedDependency[Viewer], data: JSONBody[MeErase | None] = None) -> None:
        """Erase the account: sessions, email and handle, own comments (tombstones where replied to),
        votes, flags and notifications. An account with a password sends `{"current_password": ...}`."""
        await services.erase_account(user, data.current_password if data is not None else None)

    @get("/export", operation_id="export_me")
    async def export_me(self, user: NamedDependency[Viewer]) -> ExportOut:
        """Everything stored about the caller, as JSON."""
        return await services.export_me(user)


class SecondFactorController(Controller):
    """Two-factor sign-in of the caller's account (forum/accounts/secondfactor.py)."""

    path = "/api/me/second-factor"
    tags = ("accounts",)
    guards = (requires_user,)

    @get("/", operation_id="get_second_factor")
    async def get_second_factor(self, user: NamedDependency[Viewer]) -> SecondFactorStatusOut:
        """Whether two-factor sign-in is on, and how many recovery codes are left."""
        return SecondFactorStatusOut(**await secondfactor.status(user.id))

    @post("/", operation_id="start_second_factor", status_code=HTTP_201_CREATED)
    async def start_second_factor(self, user: NamedDependency[Viewer]) -> SecondFactorStartOut:
        """Start enrolling: a new secret, its otpauth:// URI and QR code. Nothing changes at
        sign-in until it is confirmed. 409 when two-factor sign-in is already on."""
        enrolment = await secondfactor.start(user)
        return SecondFactorStartOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri,
                                    qr_svg=enrolment.qr_svg_data_uri)

    @post("/confirm", operation_id="confirm_second_factor", status_code=HTTP_200_OK)
    async def confirm_second_factor(self, user: NamedDependency[Viewer],
                                    data: JSONBody[SecondFactorCodeIn]) -> RecoveryCodesOut:
        """Turn two-factor sign-in on with the first code from the app; answers ten single-use
        recovery codes, shown this once. 400 wrong code, 404 nothing started, 409 already on."""
        return RecoveryCodesOut(recovery_codes=await secondfactor.confirm(user, data.code))

    @post("/disable", operation_id="disable_second_factor", status_code=HTTP_204_NO_CONTENT)
    async def disable_second_factor(self, user: NamedDependency[Viewer],
                                    data: JSONBody[SecondFactorDisableIn]) -> None:
        """Turn two-factor sign-in off: needs `current_password` (403 wrong) and a `code` or a
        `recovery_code` (400 wrong). 404 when it is not on."""
        await secondfactor.disable(user, data.current_password, data.code, data.recovery_code)

    @post("/recovery-codes", operation_id="renew_recovery_codes", status_code=HTTP_200_OK)
    async def renew_recovery_codes(self, user: NamedDependency[Viewer],
                                   data: JSONBody[RecoveryCodesIn]) -> RecoveryCodesOut:
        """New recovery codes (the old ones stop working): needs `current_password` and a `code`."""
        return RecoveryCodesOut(recovery_codes=await secondfactor.regenerate_recovery_codes(
            user, data.current_password, data.code))


class UsersController(Controller):
    path = "/api"
    tags = ("accounts",)

    @get("/users/{user_id:int}", operation_id="get_user_profile")
    async def get_user_profile(self, user_id: Id) -> ProfileOut:
        """Public profile; 404 for an unknown or erased account."""
        return await services.get_profile(user_id)

    @patch("/admin/users/{user_id:int}", operation_id="update_user_role", guards=[requires_admin])
    async def update_user_role(self, user_id: Id, data: JSONBody[RoleChangeIn],
                               user: NamedDependency[Viewer]) -> AdminUserOut:
        """Change a user's role (admin only); audited; applies from the next request."""
        return await services.change_role(user, user_id, data.role)

    @post("/admin/users/{user_id:int}/invite", operation_id="invite_user", status_code=HTTP_202_ACCEPTED,
          guards=[requires_admin])
    async def invite_user(self, user_id: Id, data: JSONBody[InviteIn], user: NamedDependency[Viewer]) -> InviteOut:
        """Hand an account without a password (brought in by an import) back to its person:
        set its email address and mail a link, valid seven days, to choose a password.
        409 when the account has a password, the address is taken, or mail is not configured."""
        from forum.notifications import passwords

        invited = await passwords.invite(user.id, user_id, data.email)
        return InviteOut(id=invited["id"], handle=invited["handle"])

    @delete("/admin/users/{user_id:int}/second-factor", operation_id="reset_second_factor",
            status_code=HTTP_204_NO_CONTENT, guards=[requires_admin])
    async def reset_second_factor(self, user_id: Id, user: NamedDependency[Viewer]) -> None:
        """Remove a person's lost second factor and recovery codes (admin only; audited as
        `second_factor_reset`). Their sessions end; they sign in with the password and may enrol again."""
        await secondfactor.admin_reset(user, user_id)


ROUTES: list[Any] = [AuthController, MeController, SecondFactorController, UsersController]
