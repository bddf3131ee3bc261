"""Whole-word list matching, case- and accent-insensitive, fast with thousands of entries.

Text and entries go through the same normalisation (NFKD, combining marks dropped,
casefold) and the same tokeniser (runs of word characters), so "Pré-sale" and "pre sale"
are the same two tokens and "plugin" never matches "plug". Single-word entries are a set
lookup per token; multi-word entries ("dm me") are indexed by their first token, so the
cost of a check grows with the text, not with the size of the lists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\w+")


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


@dataclass(frozen=True)
class WordMatcher:
    """A compiled word list; build once per rules version and reuse."""

    singles: frozenset[str]
    # first token -> the token tuples of every phrase starting with it
    phrases: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[str]) -> WordMatcher:
        singles: set[str] = set()
        phrases: dict[str, set[tuple[str, ...]]] = {}
        for entry in entries:
            toks = tuple(tokens(entry))
            if not toks:
                continue
            if len(toks) == 1:
                singles.add(toks[0])
            else:
                phrases.setdefault(toks[0], set()).add(toks)
        return cls(frozenset(singles), {k: tuple(sorted(v, key=len)) for k, v in phrases.items()})

    def __bool__(self) -> bool:
        return bool(self.singles or self.phrases)

    def find(self, toks: list[str]) -> str | None:
        """The first entry (normalised, space-joined) found in the token list, or None."""
        singles, phrases = self.singles, self.phrases
        if not singles and not phrases:
            return None
        n = len(toks)
        for i, tok in enumerate(toks):
            if tok in singles:
                return tok
            candidates = phrases.get(tok)
            if candidates:
                for phrase in candidates:
                    end = i + len(phrase)
                    if end <= n and tuple(toks[i:end]) == phrase:
                        return " ".join(phrase)
        return None

    def matches(self, text: str) -> bool:
        return self.find(tokens(text)) is not None
