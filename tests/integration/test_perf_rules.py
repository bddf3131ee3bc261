"""Large moderation word lists: the rules PUT takes a body larger than the site-wide limit,
and the policy's cost does not grow with the lists (scenario 6 of bench/)."""

from __future__ import annotations

import dataclasses
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


class Counted(frozenset):  # type: ignore[type-arg]
    """A frozenset that counts the membership checks made on it."""

    checks = 0

    def __contains__(self, item: object) -> bool:
        Counted.checks += 1
        return super().__contains__(item)


class CountedDict(dict):  # type: ignore[type-arg]
    """A dict that counts its lookups (`get`)."""

    lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        CountedDict.lookups += 1
        return super().get(key, default)


def test_matching_cost_does_not_grow_with_the_lists() -> None:
    """One set check and one dict lookup per token, whatever the lists hold: counted, not
    timed (scenario 6 of bench/ times it)."""
    text = tokens("When my son came home late again I tried the pause and name it approach " * 30)
    empty = WordMatcher.build([])
    assert not empty and empty.find(text) is None
    for n in (1, 5000):
        m = WordMatcher.build([f"zqbanned{i:05d}" for i in range(n)]
                              + [f"zqsuspect{i:05d} phrase" for i in range(n)])
        counted = dataclasses.replace(m, singles=Counted(m.singles), phrases=CountedDict(m.phrases))
        Counted.checks = CountedDict.lookups = 0
        assert counted.find(text) is None
        assert Counted.checks == CountedDict.lookups == len(text), (n, Counted.checks, CountedDict.lookups)
    late = WordMatcher.build(["zqsuspect00042 phrase"])  # and the counting did not stop the search early
    assert late.find([*text, *tokens("zqsuspect00042 phrase")]) == " ".join(tokens("zqsuspect00042 phrase"))
