"""Pages of the staff console (/console). Each handler calls the services the API calls
(moderation.services, moderation.crisis, moderation.trial, forum.qa, forum.accounts): no rule
lives here. Forms post and redirect; a small static script adds keyboard shortcuts, live
counts (server-sent events) and confirmations (forum/frontend/static/console/console.js)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.middleware import DefineMiddleware
from litestar.params import Body, FromPath
from litestar.response import Redirect, ServerSentEvent, Stream, Template

from forum import sql
from forum.accounts import secondfactor
from forum.accounts import services as accounts
from forum.auth import RANK, Viewer
from forum.console.session import ConsoleCSRF, clear_session, console_viewer, set_session
from forum.errors import DomainError
from forum.frontend import i18n
from forum.frontend.pages import page
from forum.pagination import Id
from moderation import crisis, highlight, trial
from moderation import services as moderation

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
CANNED_REASONS = ("console.reason.off_topic", "console.reason.unkind", "console.reason.personal_data",
                  "console.reason.advertising", "console.reason.unsafe_advice")
ACTIONS = ("approve", "reject", "spam", "edit_approve", "dismiss")


class Refused(Exception):
    """Not for this person: the polite page, with nothing about what is behind it."""


class Redirected(Exception):
    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


def _page(name: str, title_id: str, viewer: Viewer | None, status_code: int = 200, **context: Any) -> Template:
    return page(f"console/{name}.html", title=f"{i18n.t(title_id)} · {i18n.t('console.title')}",
                module="console/console.js", stylesheets=("console/console.css",), i18n_prefixes=("console.",),
                status_code=status_code, context={"viewer": viewer, "page_id": name, **context})


async def _need(request: Request[Any, Any, Any], role: str = "coach") -> Viewer:
    viewer = await console_viewer(request)
    if viewer is None:
        raise Redirected("/console")
    if not viewer.at_least(role):
        raise Refused()
    if secondfactor.staff_required() and not await secondfactor.has_factor(viewer.id):
        raise Redirected("/console/enrol")
    return viewer


def _redirect(_: Request[Any, Any, Any], exc: Redirected) -> Response[Any]:
    return Redirect(exc.to)


def _back(to: str, note: str | None = None) -> Redirect:
    return Redirect(to + (("&" if "?" in to else "?") + "note=" + note if note else ""))


# ---------------------------------------------------------------- sign-in


@get("/", operation_id="console_start", include_in_schema=False)
async def console_start(request: Request[Any, Any, Any]) -> Template | Redirect:
    viewer = await console_viewer(request)
    if viewer is None:
        return _page("sign_in", "console.sign_in.title", None)
    viewer = await _need(request)
    queues, worklist = await _counts()
    return _page("start", "console.start.title", viewer, counts=queues if viewer.is_moderator else None,
                 worklist=worklist)


async def _counts() -> tuple[dict[str, int], dict[str, int]]:
    """The open queues' sizes, and the coaches' share: urgent items and waiting questions."""
    from forum.qa import services as qa

    queues = await moderation.queue_counts()
    return queues, {"urgent": queues.get("urgent", 0), "questions": (await qa.waiting_questions())["now"]}


async def _signed_in(request: Request[Any, Any, Any], token: str) -> Redirect:
    response = Redirect("/console")
    set_session(response, request, token)
    return response


@post("/sign-in", operation_id="console_sign_in", include_in_schema=False)
async def console_sign_in(request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
    from forum.auth import client_ip

    try:
        out = await accounts.login(str(data.get("login", "")), str(data.get("password", "")), client_ip(request))
    except DomainError as exc:
        if exc.extra.get("second_factor_required"):
            return _page("second_factor", "console.second_factor.title", None, challenge=exc.extra["challenge"])
        return _page("sign_in", "console.sign_in.title", None, status_code=exc.status_code, error=exc.detail,
                     login=str(data.get("login", ""))[:320])
    return await _signed_in(request, out.token)


@post("/sign-in/second-factor", operation_id="console_second_factor", include_in_schema=False)
async def console_second_factor(request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
    code = str(data.get("code", "")).strip()
    recovery = code if "-" in code or len(code) > 8 else None
    try:
        out = await accounts.login_second_factor(str(data.get("challenge", "")), None if recovery else code, recovery)
    except DomainError as exc:
        if exc.status_code == 401:
            return _page("sign_in", "console.sign_in.title", None, status_code=401, error=exc.detail)
        return _page("second_factor", "console.second_factor.title", None, status_code=exc.status_code,
                     challenge=str(data.get("challenge", "")), error=exc.detail)
    return await _signed_in(request, out.token)


@post("/sign-out", operation_id="console_sign_out", include_in_schema=False)
async def console_sign_out(request: Request[Any, Any, Any]) -> Redirect:
    viewer = await console_viewer(request)
    if viewer is not None:
        await accounts.logout(viewer)
    response = Redirect("/console")
    clear_session(response, request)
    return response


@get("/enrol", operation_id="console_enrol", include_in_schema=False)
async def console_enrol(request: Request[Any, Any, Any]) -> Template | Redirect:
    viewer = await console_viewer(request)
    if viewer is None:
        return Redirect("/console")
    if await secondfactor.has_factor(viewer.id):
        return Redirect("/console")
    enrolment = await secondfactor.start(viewer)
    return _page("enrol", "console.enrol.title", viewer, enrolment=enrolment,
                 required=secondfactor.staff_required() and viewer.is_coach)


@post("/enrol", operation_id="console_enrol_confirm", include_in_schema=False)
async def console_enrol_confirm(request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
    viewer = await console_viewer(request)
    if viewer is None:
        return Redirect("/console")
    try:
        codes = await secondfactor.confirm(viewer, str(data.get("code", "")))
    except DomainError as exc:
        enrolment = await secondfactor.start(viewer)
        return _page("enrol", "console.enrol.title", viewer, status_code=exc.status_code, error=exc.detail,
                     enrolment=enrolment, required=secondfactor.staff_required())
    return _page("recovery_codes", "console.enrol.done_title", viewer, codes=codes)


# ---------------------------------------------------------------- live counts


@get("/events", operation_id="console_events", include_in_schema=False)
async def console_events(request: Request[Any, Any, Any]) -> ServerSentEvent:
    """Queue counts (moderators) and the coaches' urgent count, sent when they change."""
    viewer = await _need(request)

    async def counts() -> AsyncIterator[str]:
        last = None
        while True:
            queues, worklist = await _counts()
            now = {**(queues if viewer.is_moderator else {}), **worklist}
            if now != last:
                last = now
                yield msgspec.json.encode(now).decode()
            await asyncio.sleep(2)

    return ServerSentEvent(counts(), event_type="counts")


# ---------------------------------------------------------------- moderation queue


@get("/queue", operation_id="console_queue", include_in_schema=False)
async def console_queue(request: Request[Any, Any, Any]) -> Template:
    viewer = await _need(request, "moderator")
    queue = request.query_params.get("queue", "pending")
    if queue not in ("pending", "reported", "urgent"):
        queue = "pending"
    listing = await moderation.list_queue(queue, 50, request.query_params.get("cursor"))
    counts = await moderation.queue_counts()
    return _page("queue", "console.queue.title", viewer, queue=queue, items=await _with_marks(listing["items"]),
                 next_cursor=listing["next_cursor"], counts=counts, note=request.query_params.get("note"),
                 reasons=CANNED_REASONS)


async def _with_marks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item with `marked`: its post's text with the words the rules matched in <mark>."""
    for item in items:
        post = item.get("comment") or item.get("topic") or {}
        item["marked"] = await highlight.marked_post(post["body_html"]) if post.get("body_html") else None
    return items


async def _queue_item(item_id: int) -> dict[str, Any] | None:
    item = await moderation.open_queue_item(item_id)  # as its queue page shows it, in one statement
    return (await _with_marks([item]))[0] if item is not None else None


@get("/queue/items/{item_id:int}", operation_id="console_item", include_in_schema=False)
async def console_item(request: Request[Any, Any, Any], item_id: FromPath[Id]) -> Template | Redirect:
    """Opening an item claims it (a 5-minute lease), or shows who holds it."""
    viewer = await _need(request, "moderator")
    claim_error = None
    try:
        await moderation.claim(viewer, item_id)
    except DomainError as exc:
        claim_error = exc.detail
    item = await _queue_item(item_id)
    if item is None:
        return _back("/console/queue", "gone")
    return _page("item", "console.item.title", viewer, item=item, claim_error=claim_error, reasons=CANNED_REASONS)


@post("/queue/items/{item_id:int}/decide", operation_id="console_decide", include_in_schema=False)
async def console_decide(request: Request[Any, Any, Any], item_id: FromPath[Id],
                         data: FormData) -> Template | Redirect:
    viewer = await _need(request, "moderator")
    action = str(data.get("action", ""))
    reason = _reason(data)
    try:
        if action not in ACTIONS:
            raise DomainError("action: choose approve, reject, spam or edit and approve.")
        await moderation.decide(viewer, item_id, action, reason, data.get("body") or None)
    except DomainError as exc:
        item = await _queue_item(item_id)
        if item is None:
            return _back("/console/queue", "gone")
        return _page("item", "console.item.title", viewer, status_code=exc.status_code, item=item,
                     error=exc.detail, reasons=CANNED_REASONS)
    queue = str(data.get("queue", "pending"))
    return _back(f"/console/queue?queue={queue if queue in ('pending', 'reported', 'urgent') else 'pending'}",
                 f"decided-{action}")


def _reason(data: dict[str, str]) -> str | None:
    reason = str(data.get("reason", "")).strip()
    canned = str(data.get("canned", ""))
    if not reason and canned in CANNED_REASONS:
        reason = i18n.t(canned)
    return reason or None


@post("/queue/bulk", operation_id="console_bulk", include_in_schema=False)
async def console_bulk(request: Request[Any, Any, Any]) -> Template:
    viewer = await _need(request, "moderator")
    form = await request.form()
    ids = [int(v) for v in form.getall("item_ids", []) if str(v).isdigit()][:100]
    action = str(form.get("action", ""))
    data = {k: str(form.get(k, "")) for k in ("reason", "canned")}
    if not ids or action not in ("approve", "reject", "spam", "dismiss"):
        results: list[dict[str, Any]] = []
        error = i18n.t("console.bulk.nothing")
    else:
        error = None
        try:
            results = await moderation.bulk_decide(viewer, ids, action, _reason(data))
        except DomainError as exc:
            results, error = [], exc.detail
    return _page("bulk", "console.bulk.title", viewer, results=results, action=action, error=error)


# ---------------------------------------------------------------- coaches


@get("/coach", operation_id="console_coach", include_in_schema=False)
async def console_coach(request: Request[Any, Any, Any]) -> Template:
    from forum.qa import worklist

    viewer = await _need(request, "coach")
    listing = await worklist.worklist(50, request.query_params.get("cursor"))
    return _page("coach", "console.coach.title", viewer, items=listing["items"], next_cursor=listing["next_cursor"],
                 note=request.query_params.get("note"))


@post("/coach/{kind:str}/{target_id:int}/{verb:str}", operation_id="console_coach_act", include_in_schema=False)
async def console_coach_act(request: Request[Any, Any, Any], kind: FromPath[str], target_id: FromPath[Id],
                            verb: FromPath[str], data: FormData) -> Redirect | Template:
    from forum.comments import posting
    from forum.qa import services as qa

    viewer = await _need(request, "coach")
    try:
        if kind == "urgent" and verb == "claim":
            await crisis.claim(viewer, target_id)
        elif kind == "urgent" and verb == "release":
            await crisis.release(viewer, target_id)
        elif kind == "urgent" and verb == "resolve":
            await crisis.resolve(viewer, target_id, str(data.get("note", "")).strip() or None)
        elif kind == "urgent" and verb == "hide":
            await crisis.hide(viewer, target_id, str(data.get("reason", "")).strip() or None)
        elif kind == "question" and verb == "claim":
            await qa.claim_question(target_id, viewer)
        elif kind in ("question", "urgent") and verb == "answer":
            comment_id = int(data.get("comment_id", target_id)) if kind == "urgent" else target_id
            slug = await sql.fetchval("SELECT t.slug FROM comment c JOIN topic t ON t.id = c.topic WHERE c.id = $1",
                                      comment_id)
            if slug is None:
                raise DomainError("This post is gone.")
            from forum.auth import client_ip

            async with sql.transaction():
                await posting.create_comment(slug, posting.NewComment(body=str(data.get("body", "")),
                                                                      parent_id=comment_id), viewer, client_ip(request))
        else:
            raise Refused()
    except DomainError as exc:
        return _back("/console/coach", "error") if exc.status_code >= 500 else _page(
            "coach_error", "console.coach.title", viewer, status_code=exc.status_code, error=exc.detail)
    return _back("/console/coach", f"{kind}-{verb}")


@get("/coach/stats", operation_id="console_coach_stats", include_in_schema=False)
async def console_coach_stats(request: Request[Any, Any, Any]) -> Template:
    from forum.qa import services as qa

    viewer = await _need(request, "coach")
    figures = await qa.stats()  # the figures of GET /api/coach/stats
    p50 = figures["median_first_answer_minutes"] or 0.0
    p90 = figures["p90_first_answer_minutes"] or 0.0
    stale = figures["unanswered_over_24h"]
    top = max(p50, p90, 1.0)
    bars = [{"label": i18n.t("console.stats.median"), "value": p50, "width": round(300 * p50 / top)},
            {"label": i18n.t("console.stats.p90"), "value": p90, "width": round(300 * p90 / top)}]
    return _page("stats", "console.stats.title", viewer, bars=bars, stale=stale)


# ---------------------------------------------------------------- audit log


async def _log_page(request: Request[Any, Any, Any], limit: int) -> dict[str, Any]:
    q = request.query_params

    def num(key: str) -> int | None:
        value = q.get(key, "")
        return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None

    try:
        since = datetime.fromisoformat(q["since"]).replace(tzinfo=UTC) if q.get("since") else None
    except ValueError:
        since = None
    return await moderation.audit_log(limit, q.get("cursor") or None, num("actor_id"), num("target_id"),
                                      (q.get("action") or None), (q.get("target_type") or None), since)


@get("/log", operation_id="console_log", include_in_schema=False)
async def console_log(request: Request[Any, Any, Any]) -> Template:
    viewer = await _need(request, "moderator")
    listing = await _log_page(request, 50)
    filters = {k: request.query_params.get(k, "") for k in ("actor_id", "action", "target_type", "target_id", "since")}
    return _page("log", "console.log.title", viewer, items=listing["items"], next_cursor=listing["next_cursor"],
                 filters=filters, query=request.url.query)


@get("/log.csv", operation_id="console_log_csv", include_in_schema=False)
async def console_log_csv(request: Request[Any, Any, Any]) -> Response[str]:
    await _need(request, "moderator")
    listing = await _log_page(request, 200)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "created_at", "actor_id", "action", "target_type", "target_id", "reason"])
    for e in listing["items"]:
        reason = (e["reason"] or "")
        if reason[:1] in ("=", "+", "-", "@"):  # never a formula in a spreadsheet
            reason = "'" + reason
        writer.writerow([e["id"], e["created_at"].isoformat(), e["actor_id"] or "", e["action"], e["target_type"],
                         e["target_id"] or "", reason])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"',
                             "Cache-Control": "no-store"})


# ---------------------------------------------------------------- people


@get("/people/{user_id:int}", operation_id="console_person", include_in_schema=False)
async def console_person(request: Request[Any, Any, Any], user_id: FromPath[Id]) -> Template:
    viewer = await _need(request, "moderator")
    person = await moderation.user_view(user_id)  # never an email
    flags = await sql.fetch(
        "SELECT f.reason, f.created_at, f.comment FROM flag f JOIN comment c ON c.id = f.comment"
        " WHERE c.author = $1 AND f.resolved_at IS NULL ORDER BY f.id DESC LIMIT 50", user_id)
    log = await moderation.audit_log(20, None, None, user_id, None, "user")
    return _page("person", "console.person.title", viewer, person=person, flags=flags, log=log["items"],
                 note=request.query_params.get("note"))


@post("/people/{user_id:int}/{verb:str}", operation_id="console_person_act", include_in_schema=False)
async def console_person_act(request: Request[Any, Any, Any], user_id: FromPath[Id], verb: FromPath[str],
                             data: FormData) -> Redirect | Template:
    viewer = await _need(request, "moderator")
    reason = str(data.get("reason", "")).strip()
    try:
        if verb == "suspend":
            if not reason:
                raise DomainError("reason: say why the account is suspended.")
            until = str(data.get("until", "")).strip()
            days = None
            if until:
                end = datetime.fromisoformat(until).replace(tzinfo=UTC)
                days = max(1, (end - datetime.now(UTC) + timedelta(hours=23)).days)
            await moderation.suspend_user(viewer, user_id, days, reason)
        elif verb == "unsuspend":
            await moderation.unsuspend_user(viewer, user_id, reason or None)
        elif verb == "reset-2fa" and viewer.is_admin:
            await secondfactor.admin_reset(viewer, user_id)
        elif verb == "role" and viewer.is_admin:
            await accounts.change_role(viewer, user_id, str(data.get("role", "")))
        else:
            raise Refused()
    except (DomainError, ValueError) as exc:
        person = await moderation.user_view(user_id)
        return _page("person", "console.person.title", viewer, status_code=getattr(exc, "status_code", 400),
                     person=person, flags=[], log=[], error=getattr(exc, "detail", str(exc)))
    return _back(f"/console/people/{user_id}", verb)


# ---------------------------------------------------------------- rules


@get("/rules", operation_id="console_rules", include_in_schema=False)
async def console_rules(request: Request[Any, Any, Any]) -> Template:
    viewer = await _need(request, "moderator")
    return _page("rules", "console.rules.title", viewer, rules=await moderation.get_rules(),
                 note=request.query_params.get("note"))


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace("\r", "").split("\n") if w.strip()]


@post("/rules", operation_id="console_rules_save", include_in_schema=False)
async def console_rules_save(request: Request[Any, Any, Any], data: FormData) -> Redirect | Template:
    viewer = await _need(request, "admin")
    current = await moderation.get_rules()
    try:
        new = {
            "banned_words": _words(data.get("banned_words", "")),
            "suspect_words": _words(data.get("suspect_words", "")),
            "crisis_words": _words(data.get("crisis_words", "")),
            "max_links_untrusted": int(data.get("max_links_untrusted", current["max_links_untrusted"])),
            "trusted_after_approved": int(data.get("trusted_after_approved", current["trusted_after_approved"])),
            "flag_hide_threshold": int(data.get("flag_hide_threshold", current["flag_hide_threshold"])),
            "edit_window_minutes": int(data.get("edit_window_minutes", current["edit_window_minutes"])),
            "premoderate_all": data.get("premoderate_all") == "on",
            "crisis_message": str(data.get("crisis_message", current["crisis_message"])),
            "crisis_posts": data.get("crisis_posts") if data.get("crisis_posts") in ("publish", "hold") else None,
        }
        await moderation.put_rules(viewer, new)
    except (DomainError, ValueError) as exc:
        return _page("rules", "console.rules.title", viewer, status_code=400, rules=current,
                     error=getattr(exc, "detail", "A number is needed in each number field."))
    return _back("/console/rules", "saved")


@post("/rules/try", operation_id="console_rules_try", include_in_schema=False)
async def console_rules_try(request: Request[Any, Any, Any], data: FormData) -> Template:
    viewer = await _need(request, "moderator")
    body = str(data.get("body", ""))[:40000]
    author = data.get("author") if data.get("author") in ("guest", "new_reader", "trusted_reader") else "new_reader"
    verdict = await trial.try_text(body, author) if body.strip() else None  # type: ignore[arg-type]
    return _page("rules", "console.rules.title", viewer, rules=await moderation.get_rules(), verdict=verdict,
                 tried=body, tried_author=author)


# ---------------------------------------------------------------- admins


@get("/users", operation_id="console_users", include_in_schema=False)
async def console_users(request: Request[Any, Any, Any]) -> Template:
    return await _users_page(request, await _need(request, "admin"))


async def _users_page(request: Request[Any, Any, Any], viewer: Viewer, status_code: int = 200,
                      **extra: Any) -> Template:
    from forum.notifications import mail

    search = request.query_params.get("q", "").strip()[:100] or None
    role = request.query_params.get("role") or None
    users = await accounts.list_users(role if role in RANK else None, search, 100)
    for u in users:
        u.pop("email", None)
    return _page("users", "console.users.title", viewer, status_code=status_code, users=users, search=search or "",
                 role=role or "", mail_on=mail.enabled(), note=request.query_params.get("note"), **extra)


@post("/users/{user_id:int}/{verb:str}", operation_id="console_user_act", include_in_schema=False)
async def console_user_act(request: Request[Any, Any, Any], user_id: FromPath[Id], verb: FromPath[str],
                           data: FormData, state: State) -> Template | Redirect:
    """An invitation (an account without a password) or a password-reset link, through the
    services `forum users invite` / `forum users reset-password` use, audited with the admin
    as the actor. Only ever emailed to the person: without mail (or an address) it is a 409
    and no link exists, since an admin must not hold a way into another person's account
    (the server's operator can make one at the command line)."""
    from forum.notifications import passwords

    viewer = await _need(request, "admin")
    try:
        if verb == "invite":
            await passwords.invite(viewer.id, user_id, str(data.get("email", "")))
        elif verb == "reset-link":
            await passwords.operator_reset(user_id, actor_id=viewer.id, hand_over_link=False)
        else:
            raise Refused()
    except DomainError as exc:
        return await _users_page(request, viewer, status_code=exc.status_code, error=exc.detail)
    return _back("/console/users", f"{verb}-mailed")


@get("/settings", operation_id="console_settings", include_in_schema=False)
async def console_settings(request: Request[Any, Any, Any], state: State) -> Template:
    viewer = await _need(request, "admin")
    settings = state.settings
    shown = {
        "FORUM_SITE_NAME": settings.site_name, "FORUM_PUBLIC_URL": settings.public_url,
        "FORUM_STAFF_2FA": settings.staff_2fa, "FORUM_SESSION_DAYS": settings.session_days,
        "FORUM_SESSION_IDLE_DAYS": settings.session_idle_days,
        "FORUM_RATE_LIMITS": "off" if not settings.rate_limits_on else settings.rate_limit_factor,
        "mail": "on" if settings.mail_enabled else "off",
        "FORUM_EMBED_ORIGINS": ", ".join(getattr(settings, "embed_origins", ())) or "-",
        "FORUM_SEARCH_LANGUAGE": settings.search_language,
    }
    return _page("settings", "console.settings.title", viewer, shown=shown)


@get("/settings/export", operation_id="console_export", include_in_schema=False)
async def console_export(request: Request[Any, Any, Any]) -> Stream:
    """The site export download: the stream GET /api/admin/export and `forum export` give."""
    from forum.transfer import jsonio

    await _need(request, "admin")
    return Stream(jsonio.export_chunks(None), media_type="application/json",
                  headers={"Content-Disposition": 'attachment; filename="forum-export.json"',
                           "Cache-Control": "no-store"})


ROUTER = Router(
    path="/console",
    route_handlers=[console_start, console_sign_in, console_second_factor, console_sign_out, console_enrol,
                    console_enrol_confirm, console_events, console_queue, console_item, console_decide, console_bulk,
                    console_coach, console_coach_act, console_coach_stats, console_log, console_log_csv,
                    console_person, console_person_act, console_rules, console_rules_save, console_rules_try,
                    console_users, console_user_act, console_settings,
                    console_export],
    middleware=[DefineMiddleware(ConsoleCSRF)],
    exception_handlers={Refused: lambda r, e: _page("refused", "console.refused.title",
                                                      r.scope.get("state", {}).get("console_viewer"), 403),
                        Redirected: _redirect},
    include_in_schema=False,
)

ROUTES: list[Any] = [ROUTER]
