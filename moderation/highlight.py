"""The words of a post that the rules' word lists matched, marked for the moderator.

The text is what a reader sees (`textnorm.visible_text` of the rendered post, the text the
policy reads), split at white space into words as written. Each written word is read through
the policy's own normaliser (`textnorm.word_readings`: invisible characters out, NFKC,
casefold, accents, look-alike letters and digits folded) and the lists are matched against
those readings, phrases across neighbouring words included. A matched word is marked whole,
as written (only punctuation at its edges left out): a disguised word ("b\u200banned",
"pr\u0435-s4le") has no exact span in the original that maps to the normalised one, so the
mark covers the written word whose reading matched, not characters.

Everything is escaped; only the <mark> elements are markup."""

from __future__ import annotations

import re
from collections.abc import Mapping

from markupsafe import Markup, escape

from forum.textnorm import visible_text, word_readings
from moderation.wordmatch import WordMatcher

_WORD = re.compile(r"\S+")
_EDGE = ".,;:!?()[]{}\"'«»“”‘’…*_~`"


def mark_words(text: str, lists: Mapping[str, WordMatcher]) -> tuple[Markup, dict[str, list[str]]]:
    """`text` escaped, with each written word whose reading a list matched in
    <mark class="rule-NAME">; and per list the entries found (normalised, as the policy reads them).
    `lists` in order of weight: a word in two lists takes the first's class."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    readings = [word_readings(text[s:e]) for s, e in spans]
    ways = max((len(r) for r in readings), default=1)
    marks: dict[int, str] = {}
    found: dict[str, list[str]] = {}
    for name, matcher in lists.items():
        if not matcher:
            continue
        for way in range(ways):  # a `1` reads as i and as l, as in the policy
            flat = [(tok, index) for index, rs in enumerate(readings) for tok in rs[min(way, len(rs) - 1)]]
            toks = [tok for tok, _ in flat]
            for i, tok in enumerate(toks):
                hits: list[tuple[str, ...]] = [(tok,)] if tok in matcher.singles else []
                hits += [p for p in matcher.phrases.get(tok, ()) if tuple(toks[i:i + len(p)]) == p]
                for phrase in hits:
                    entry = " ".join(phrase)
                    if entry not in found.setdefault(name, []):
                        found[name].append(entry)
                    for _, index in flat[i:i + len(phrase)]:
                        marks.setdefault(index, name)
    out: list[str] = []
    last = 0
    for index, (start, end) in enumerate(spans):
        out.append(escape(text[last:start]))
        word = text[start:end]
        if index in marks:
            core = word.strip(_EDGE) or word
            lead = word.index(core)
            out += [escape(word[:lead]), Markup('<mark class="rule-%s">') % marks[index], escape(core),
                    Markup("</mark>"), escape(word[lead + len(core):])]
        else:
            out.append(escape(word))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out), {k: v for k, v in found.items() if v}


async def marked_post(body_html: str) -> dict[str, object] | None:
    """The post's visible text with the current rules' words marked, or None when no list
    matched (`{"text": Markup, "found": {"banned"|"suspect"|"crisis": [entries]}}`)."""
    from moderation import policy

    matchers = await policy.current_matchers()
    text, found = mark_words(visible_text(body_html).strip(), {
        "banned": matchers.banned, "suspect": matchers.suspect, "crisis": matchers.crisis})
    return {"text": text, "found": found} if found else None
