"""Large moderation word lists: the rules PUT takes a body larger than the site-wide limit,
and the policy's cost does not grow with the lists (scenario 6 of bench/)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from moderation import policy
from moderation.controllers import RULES_MAX_BODY_BYTES
from moderation.wordmatch import WordMatcher, tokens
from tests.helpers import make_user


def big_rules(current: dict[str, Any], n: int = 5000) -> dict[str, Any]:
    body = {k: current[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                    "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                    "premoderate_all", "crisis_message")}
    body["banned_words"] = [f"zqbanned{i:05d}" for i in range(n)]
    body["suspect_words"] = [f"zqsuspect{i:05d} phrase" for i in range(n)]
    return body


def test_rules_route_has_its_own_body_limit(app: Any) -> None:
    handler = next(r for route in app.routes for r in getattr(route, "route_handlers", [])
                   if r.operation_id == "replace_moderation_rules")
    assert handler.resolve_request_max_body_size() == RULES_MAX_BODY_BYTES
    assert app.request_max_body_size < RULES_MAX_BODY_BYTES  # the site-wide limit stays as it is


async def test_put_rules_with_5000_plus_5000_words(client: httpx.AsyncClient) -> None:
    admin = await make_user("admin")
    current = (await client.get("/api/moderation/rules", headers=admin.headers)).json()
    body = big_rules(current)
    r = await client.put("/api/moderation/rules", headers=admin.headers, json=body)
    assert r.status_code == 200, r.text[:200]
    assert len(r.json()["banned_words"]) == 5000
    assert len((await policy.current_rules()).suspect_words) == 5000


def test_matching_cost_does_not_grow_with_the_lists() -> None:
    text = tokens("When my son came home late again I tried the pause and name it approach " * 30)
    empty = WordMatcher.build([])
    big = WordMatcher.build([f"zqbanned{i:05d}" for i in range(5000)]
                            + [f"zqsuspect{i:05d} phrase" for i in range(5000)])
    assert big.find(text) is None

    def cost(m: WordMatcher) -> float:
        t0 = time.perf_counter()
        for _ in range(200):
            m.find(text)
        return time.perf_counter() - t0

    # a set lookup per token either way: allow for noise, not for a scan of the lists
    assert cost(big) < 5 * cost(WordMatcher.build(["x"])) + 0.01
    assert not empty
