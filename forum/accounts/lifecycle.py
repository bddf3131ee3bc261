"""Start-up of the accounts domain: session lifetimes from the settings, and the dummy
password hash computed once before the first login needs it."""

from __future__ import annotations

from typing import Any

from forum import auth
from forum.accounts import passwords


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    auth.set_session_days(settings.session_days)
    auth.set_idle_days(settings.session_idle_days)
    await passwords.warm_up()
