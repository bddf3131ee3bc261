"""XSS through the API: every payload in tests/data/xss/*.json posted as a comment body, a
topic body, a handle and a guest name. Stored `body_html`, re-parsed with html5lib, has no
dangerous element, no on*/style attribute and no URL with a scheme other than
http/https/mailto; sanitizing it again changes nothing; handles and guest names come back
as the exact JSON strings sent (never interpreted). Skipped when the corpus is absent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import html5lib

from forum import sql
from forum.markup import sanitize_html
from tests.security.conftest import World

XSS_DIR = Path(__file__).resolve().parents[1] / "data" / "xss"
FORBIDDEN = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "base", "meta", "link",
             "frame", "frameset", "applet", "template", "noscript", "img", "video", "audio", "source",
             "input", "button", "textarea", "select", "details", "marquee", "isindex", "portal"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster",
             "srcset", "cite", "codebase", "dynsrc", "lowsrc", "ping"}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _payloads() -> list[str]:
    out: list[str] = []
    for f in sorted(XSS_DIR.glob("*.json")):
        for entry in json.loads(f.read_text()):
            payload = entry.get("payload") if isinstance(entry, dict) else entry
            if isinstance(payload, str) and payload.strip() and payload not in out:
                out.append(payload)
    return out


PAYLOADS = _payloads()


def test_the_corpus_is_in_the_repository() -> None:
    # the corpora ship with the repository (tests/data/xss): an empty list would pass every test below
    assert len(PAYLOADS) > 300


def html_problems(html: str) -> list[str]:
    found = []
    tree = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in FORBIDDEN:
            found.append(f"<{tag}>")
        for raw, value in el.attrib.items():
            name = raw.rsplit("}", 1)[-1].lower()
            if name.startswith("on") or name == "style":
                found.append(f"{name}= on <{tag}>")
            if name in URL_ATTRS or raw.lower() in URL_ATTRS:
                norm = "".join(c for c in value if not c.isspace() and unicodedata.category(c) != "Cc").lower()
                m = _SCHEME.match(norm)
                if m is None or m.group(1) not in SAFE_SCHEMES:
                    found.append(f"{name}={value[:40]!r} on <{tag}>")
    if sanitize_html(html) != html:
        found.append("sanitizing again changes it")
    return found


async def _check_stored(table: str, ids: list[int], answered: dict[int, str]) -> list[str]:
    rows = await sql.fetch(f"SELECT id, body_html FROM {table} WHERE id = ANY($1::bigint[])", ids)
    assert len(rows) == len(ids)
    failures = []
    for row in rows:
        if answered[row["id"]] != row["body_html"]:
            failures.append(f"{table} {row['id']}: answered body_html differs from the stored one")
        for p in html_problems(row["body_html"]):
            failures.append(f"{table} {row['id']}: {p}: {row['body_html'][:160]!r}")
    return failures


async def test_xss_payloads_as_comment_bodies(world: World) -> None:
    answered: dict[int, str] = {}
    for payload in PAYLOADS:
        r = await world.client.post(f"/api/topics/{world.slug}/comments", headers=world.h(world.coach),
                                    json={"body": payload})
        # 409: the same text a moment ago (payloads that differ only in what Markdown drops)
        assert r.status_code in (201, 400, 409, 422), f"{r.status_code}: {r.text[:200]} for {payload[:80]!r}"
        if r.status_code == 201:
            answered[r.json()["id"]] = r.json()["body_html"]
    assert len(answered) >= len(PAYLOADS) * 0.9, "most payloads should be stored (escaped), not refused"
    failures = await _check_stored("comment", list(answered), answered)
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:40])
    # the thread read serves the same HTML
    r = await world.client.get(f"/api/topics/{world.slug}/comments", params={"limit": 100})
    for item in r.json()["items"]:
        if item["id"] in answered:
            assert item["body_html"] == answered[item["id"]]


async def test_xss_payloads_as_topic_bodies_and_titles(world: World) -> None:
    answered: dict[int, str] = {}
    titles: dict[int, str] = {}
    for i, payload in enumerate(PAYLOADS):
        title = payload[:200]
        r = await world.client.post("/api/topics", headers=world.h(world.coach),
                                    json={"kind": "article", "title": title, "body": payload,
                                          "slug": f"xss-{i}"})
        assert r.status_code in (201, 400, 422), f"{r.status_code}: {r.text[:200]} for {payload[:80]!r}"
        if r.status_code == 201:
            data = r.json()
            answered[data["id"]] = data["body_html"]
            titles[data["id"]] = title
            assert " ".join(data["title"].split()) == " ".join(title.split()), "the title came back changed"
    assert len(answered) >= len(PAYLOADS) * 0.9
    failures = await _check_stored("topic", list(answered), answered)
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:40])


async def test_xss_payloads_as_handles_and_guest_names(world: World) -> None:
    """Never interpreted: accepted exactly as sent (a JSON string) or refused with a 4xx."""
    accepted_handles = accepted_guests = 0
    failures = []
    for payload in PAYLOADS:
        handle = payload[:30]
        r = await world.client.patch("/api/me", headers=world.h(world.reader2), json={"handle": handle})
        if r.status_code >= 500:
            failures.append(f"handle {handle!r} -> {r.status_code}")
        elif r.status_code == 200:
            accepted_handles += 1
            profile = (await world.client.get(f"/api/users/{world.reader2.id}")).json()
            if profile["handle"] not in (handle, handle.strip()):
                failures.append(f"handle {handle!r} came back as {profile['handle']!r}")
        guest = payload[:40]
        r = await world.client.post(f"/api/topics/{world.slug}/comments",
                                    json={"body": "a guest's comment", "guest_name": guest})
        if r.status_code >= 500:
            failures.append(f"guest_name {guest!r} -> {r.status_code}")
        elif r.status_code == 201:
            accepted_guests += 1
            got = r.json()["guest_name"]
            assert r.headers["content-type"].startswith("application/json")
            if got not in (guest, guest.strip(), " ".join(guest.split())):
                failures.append(f"guest_name {guest!r} came back as {got!r}")
    assert not failures, "\n".join(failures[:40])
    print(f"\nhandles accepted {accepted_handles}/{len(PAYLOADS)}, guest names {accepted_guests}/{len(PAYLOADS)}")
