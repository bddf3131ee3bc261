"""Start-up of the accounts domain: session lifetimes from the settings, the dummy
password hash computed once before the first login needs it, the erased-handle hold, and
the retention sweep (forum/accounts/retention.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from forum import auth
from forum.accounts import passwords, retention, secondfactor, services
from forum.tasks import cancel_and_wait


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    auth.set_session_days(settings.session_days)
    auth.set_idle_days(settings.session_idle_days)
    services.set_handle_hold_days(settings.erased_handle_hold_days)
    secondfactor.configure(settings.site_name, settings.staff_2fa == "required")
    await passwords.warm_up()
    app.state.retention_sweep = asyncio.create_task(retention.sweep_forever(), name="forum-retention-sweep")


async def on_shutdown(app: Any) -> None:
    task = getattr(app.state, "retention_sweep", None)
    app.state.retention_sweep = None
    await cancel_and_wait(task)
