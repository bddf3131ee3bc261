"""The scripted day of issue 16: a moderator and a coach do a full day's work in the console,
without the API docs. The test data (made through the API): 50 moderation items (30 guests'
comments, 8 new readers' comments held for their links, 6 held for a suspect word, 5 reported
comments, one crisis comment) and 10 readers' questions.

The moderator works mostly by keyboard (j/k to move, a approve, r reject, s spam, e edit,
? help, as forum/frontend/static/console/console.js binds them) and uses bulk for the batches;
the coach answers the crisis post first, then the questions, oldest first. At the end every
queue and the work list are empty, each item carries the expected decision with one audit
entry per decision, and every asker has a notification of the answer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from forum import sql
from tests.browser.conftest import axe_scan
from tests.browser.test_console import PASSWORD, _accept_confirmations, _account, _bearer, _sign_in, _topic

RULE_FIELDS = ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted", "trusted_after_approved",
               "flag_hide_threshold", "edit_window_minutes", "premoderate_all", "crisis_message")


def _letters(n: int) -> str:
    return "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:n])


async def _reader(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.post("/api/auth/register", json={"handle": f"d_{uuid.uuid4().hex[:10]}", "password": PASSWORD})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _post(api: httpx.AsyncClient, slug: str, body: str, who: dict[str, Any] | None = None,
                **extra: Any) -> dict[str, Any]:
    payload = {"body": body, **extra} if who else {"body": body, "guest_name": "Ann", **extra}
    r = await api.post(f"/api/topics/{slug}/comments", json=payload, headers=_bearer(who) if who else {})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _item_of(comment_id: int, queue: str) -> int:
    item = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1 AND queue = $2 AND status = 'open'",
                              comment_id, queue)
    assert item is not None, (comment_id, queue)
    return int(item)


async def _counts(page: Any, origin: str) -> dict[str, int]:
    await page.goto(f"{origin}/console")
    await page.get_by_role("heading", name="Start").wait_for()
    out = {}
    for name in ("pending", "reported", "urgent", "questions"):
        if await page.locator(f".cards [data-count={name}]").count():
            out[name] = int((await page.locator(f".cards [data-count={name}]").inner_text()).strip())
    return out


async def _first_row(page: Any) -> int:
    """j on a fresh queue page selects (and focuses) the first row; its item id."""
    row = page.locator("li.queue-row.selected")
    if not await row.count():
        await page.keyboard.press("j")
    await row.wait_for()
    return int((await row.get_attribute("data-item-url")).rsplit("/", 1)[1])


async def test_a_scripted_day_in_the_console(client: httpx.AsyncClient, forum_server: Any, browser: Any,
                                             context: Any) -> None:
    origin = forum_server.origin
    suspect, crisis_word = "grumblix" + _letters(5), "despairix" + _letters(5)
    slug = await _topic("Teenagers and screens")
    async with httpx.AsyncClient(base_url=origin, timeout=30) as api:
        # ---------------------------------------------------------------- the day's data
        admin = await _reader(api)
        await sql.execute("UPDATE forum_user SET role = 'admin' WHERE id = $1", admin["user"]["id"])
        rules = (await api.get("/api/moderation/rules", headers=_bearer(admin))).json()
        keep = {k: rules[k] for k in RULE_FIELDS}
        r = await api.put("/api/moderation/rules", headers=_bearer(admin),
                          json={**keep, "suspect_words": [*keep["suspect_words"], suspect],
                                "crisis_words": [*keep["crisis_words"], crisis_word]})
        assert r.status_code == 200, r.text
        try:
            # yesterday: ten askers and Tess earn their trust (two approved comments each)
            askers = [await _reader(api) for _ in range(10)]
            tess = await _reader(api)
            warm_up = [await _post(api, slug, f"Hello from {who['user']['handle']}, post {n}.", who)
                       for who in (*askers, tess) for n in range(2)]
            items = [await _item_of(c["id"], "pending") for c in warm_up]
            r = await api.post("/api/moderation/bulk", headers=_bearer(admin),
                               json={"item_ids": items, "action": "approve"})
            assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"]), r.text

            # today: the queue, oldest first
            linker, spammer, newcomer = [await _reader(api) for _ in range(3)]
            links = " ".join(f"https://example.org/page-{n}" for n in range(3))
            held_links = [await _post(api, slug, f"Look at these, number {n}: {links}",
                                      spammer if n == 3 else linker if n < 3 else newcomer) for n in range(8)]
            held_suspect = [await _post(api, slug, f"My son says {suspect} all day, talk {n}.", newcomer)
                            for n in range(6)]
            guests = [await _post(api, slug, f"Thank you for this page, guest note {n}.") for n in range(30)]
            for c in (*held_links, *held_suspect, *guests):
                assert c["status"] == "pending", c
            flagged = [await _post(api, slug, f"Just ignore him, he will learn, remark {n}.", tess) for n in range(5)]
            for n, c in enumerate(flagged):
                assert c["status"] == "published", c
                r = await api.post(f"/api/comments/{c['id']}/flags", headers=_bearer(askers[n]),
                                   json={"reason": "dangerous_advice", "note": f"Not kind, note {n}"})
                assert r.status_code == 201, r.text
            crisis = await _post(api, slug, f"I feel {crisis_word} tonight, I cannot go on like this.", tess)
            assert crisis["status"] == "published", crisis
            questions = [await _post(api, slug, f"How do I limit screens at night? Question {n}.", a, kind="question")
                         for n, a in enumerate(askers)]
            assert all(q["status"] == "published" for q in questions), questions
            link_items = [await _item_of(c["id"], "pending") for c in held_links]
            suspect_items = [await _item_of(c["id"], "pending") for c in held_suspect]
            guest_items = [await _item_of(c["id"], "pending") for c in guests]
            reported_items = [await _item_of(c["id"], "reported") for c in flagged]
            crisis_item = await _item_of(crisis["id"], "urgent")

            # ---------------------------------------------------------------- the moderator
            moderator = await _account("moderator")
            page = await context.new_page()
            _accept_confirmations(page)
            await _sign_in(page, origin, moderator)
            assert await _counts(page, origin) == {"pending": 44, "reported": 5, "urgent": 1, "questions": 10}
            await page.goto(f"{origin}/console/queue")
            await page.keyboard.press("?")  # the help
            await page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
            await page.keyboard.press("Escape")
            assert await page.get_by_role("dialog", name="Keyboard shortcuts").is_hidden()
            await page.keyboard.press("j")
            await page.keyboard.press("j")
            await page.keyboard.press("k")  # back to the first row
            assert await page.locator("li.queue-row").first.evaluate("el => el === document.activeElement")
            expected: dict[int, str] = {}

            async def by_key(key: str, item_id: int, reason: str | None = None) -> None:
                assert await _first_row(page) == item_id
                await page.keyboard.press(key)  # the item page (it claims the item)
                await page.wait_for_url(f"**/console/queue/items/{item_id}#{key}")
                await page.get_by_text("is looking at this until").wait_for()
                if key == "a":
                    await page.keyboard.press("a")
                elif key == "e":
                    editor = page.get_by_label("Edit the text, then approve it")
                    assert await editor.evaluate("el => el === document.activeElement")
                    await editor.fill("My son talks about it all day.")
                    await page.keyboard.press("Tab")
                    await page.keyboard.press("Enter")
                else:  # r and s: the reason field has the focus
                    assert await page.locator("#reason").evaluate("el => el === document.activeElement")
                    await page.keyboard.type(reason or "")
                    if key == "s":
                        await page.keyboard.press("Tab")  # to Reject, then Spam
                        await page.keyboard.press("Tab")
                    await page.keyboard.press("Enter")
                note = {"a": "Approved.", "r": "Rejected. The author has been told.", "s": "Marked as spam.",
                        "e": "Edited and approved."}[key]
                await page.get_by_text(note).wait_for()
                expected[item_id] = {"a": "approve", "r": "reject", "s": "spam", "e": "edit_approve"}[key]

            for n, item_id in enumerate(link_items[:3]):
                await by_key("r", item_id, f"Too many links to shops, reply {n}.")
            await by_key("s", link_items[3], "Advertising.")
            for item_id in link_items[4:]:
                await by_key("a", item_id)
            await by_key("e", suspect_items[0])

            async def bulk(ids: list[int], action: str, canned: str | None = None) -> None:
                for item_id in ids:
                    await page.locator(f"input[name=item_ids][value='{item_id}']").check()
                await page.get_by_label("Decision").select_option(action)
                if canned:
                    await page.locator("#bulk-canned").select_option(canned)
                await page.get_by_role("button", name="Apply to the selected items").click()
                await page.get_by_role("heading", name="Results").wait_for()
                rows = page.locator("table.results tbody tr")
                assert await rows.count() == len(ids)
                assert await page.locator("table.results tbody tr.ok").count() == len(ids)
                expected.update({i: action for i in ids})
                await page.get_by_role("link", name="Back to the queue").click()

            await bulk(suspect_items[1:], "reject", "console.reason.unsafe_advice")
            await bulk(guest_items, "approve")
            await page.get_by_text("Nothing is waiting here. Thank you.").wait_for()

            await page.goto(f"{origin}/console/queue?queue=reported")
            await page.locator("li.queue-row").first.wait_for()
            assert await page.locator("ul.flags").first.inner_text() != ""
            await by_key("r", reported_items[0], "Unkind advice, removed.")
            await page.get_by_role("link", name="reported by readers").click()
            await by_key("a", reported_items[1])
            await page.get_by_role("link", name="reported by readers").click()
            await bulk(reported_items[2:], "dismiss")
            await page.goto(f"{origin}/console/queue?queue=reported")
            await page.get_by_text("Nothing is waiting here. Thank you.").wait_for()
            assert await _counts(page, origin) == {"pending": 0, "reported": 0, "urgent": 1, "questions": 10}
            await axe_scan(page, "console start at the end of the moderator's day")

            # every item decided as expected, each with one audit entry by the moderator
            assert len(expected) == 49
            rows = await sql.fetch("SELECT id, status, decision, decided_by FROM moderation_item WHERE id = ANY($1)",
                                   list(expected))
            mod_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", moderator)
            assert {r["id"]: (r["status"], r["decision"], r["decided_by"]) for r in rows} == {
                i: ("decided", a, mod_id) for i, a in expected.items()}
            log = await sql.fetch("SELECT action, (details->>'item_id')::bigint AS item_id, reason FROM audit_log"
                                  " WHERE actor_id = $1", mod_id)  # one entry per decision, and no other
            claims = [r for r in log if r["action"] == "claim"]  # opening an item claims it (audited too)
            assert len(claims) == 11
            log = [r for r in log if r["action"] != "claim"]
            assert sorted((r["item_id"], r["action"]) for r in log) == sorted(expected.items())
            assert all(r["reason"] for r in log if r["action"] in ("reject", "spam"))
            statuses = dict(await sql.fetch("SELECT id, status FROM comment WHERE id = ANY($1)",
                                            [c["id"] for c in (*held_links, *held_suspect, *guests, *flagged)]))
            assert [statuses[c["id"]] for c in held_links] == ["rejected"] * 3 + ["spam"] + ["published"] * 4
            assert [statuses[c["id"]] for c in held_suspect] == ["published"] + ["rejected"] * 5
            assert {statuses[c["id"]] for c in guests} == {"published"}
            assert [statuses[c["id"]] for c in flagged] == ["rejected"] + ["published"] * 4
            assert await sql.fetchval("SELECT body FROM comment WHERE id = $1",
                                      held_suspect[0]["id"]) == "My son talks about it all day."

            # ---------------------------------------------------------------- the coach
            coach_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
            try:
                coach = await coach_context.new_page()
                await _sign_in(coach, origin, await _account("coach"))
                await coach.get_by_role("heading", name="Start").wait_for()
                await coach.goto(f"{origin}/console/coach")
                first = coach.locator("li.queue-row").first
                assert await first.get_attribute("class") == "queue-row urgent"
                assert crisis_word in await first.inner_text()
                await first.get_by_role("button", name="I will take this").click()
                await coach.get_by_text("It is yours for the next few minutes.").wait_for()
                first = coach.locator("li.queue-row").first
                await first.get_by_label("Your answer").fill("You are not alone. **Call us tonight**, we are here.")
                await first.locator(".preview strong").wait_for()  # the Markdown preview
                await first.get_by_role("button", name="Send the answer").click()
                await coach.get_by_text("Your answer is posted.").wait_for()
                for n in range(len(questions)):  # oldest first
                    first = coach.locator("li.queue-row").first
                    assert f"Question {n}." in await first.inner_text()
                    assert "urgent" not in (await first.get_attribute("class") or "")
                    if n == 0:
                        await first.get_by_role("button", name="I will take this").click()
                        await coach.get_by_text("It is yours for the next few minutes.").wait_for()
                        first = coach.locator("li.queue-row").first
                    await first.get_by_label("Your answer").fill(f"Try a screen-free hour before bed ({n}).")
                    await first.get_by_role("button", name="Send the answer").click()
                    await coach.get_by_text("Your answer is posted.").wait_for()
                await coach.get_by_text("Nobody is waiting for a coach right now.").wait_for()
                await axe_scan(coach, "console work list, empty")
                assert await _counts(coach, origin) == {"urgent": 0, "questions": 0}  # no queues for a coach
            finally:
                await coach_context.close()
            assert await _counts(page, origin) == {"pending": 0, "reported": 0, "urgent": 0, "questions": 0}
            assert await sql.fetchval("SELECT decision FROM moderation_item WHERE id = $1", crisis_item) == "answered"
            for who, post in ((tess, crisis), *zip(askers, questions, strict=True)):
                answer = await sql.fetchval("SELECT id FROM comment WHERE parent = $1", post["id"])
                assert answer is not None
                notes = (await api.get("/api/me/notifications", headers=_bearer(who))).json()
                assert any(n["comment_id"] == answer for n in notes["items"]), notes
            answered = "SELECT count(*) FROM comment WHERE id = ANY($1) AND question_status = 'answered'"
            assert await sql.fetchval(answered, [q["id"] for q in questions]) == 10
        finally:
            r = await api.put("/api/moderation/rules", headers=_bearer(admin), json=keep)
            assert r.status_code == 200, r.text
