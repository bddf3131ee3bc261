"""Whole-word list matching, fast with thousands of entries.

Text and entries go through the one normaliser (`forum.textnorm`: invisible characters
out, NFKC, casefold, accents dropped, confusables and letter-digit substitutions folded)
and the same tokeniser (runs of word characters), so "Pré-sale", "pre sale" and
"pr\u0435 s4le" are the same two tokens and "plugin" never matches "plug". Single-word
entries are a set lookup per token; multi-word entries ("dm me") are indexed by their
first token, so the cost of a check grows with the text, not with the size of the lists.
A post is normalised once (`textnorm.post_readings`) and every list checks those tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from forum.textnorm import tokens, word_readings

__all__ = ["WordMatcher", "normalize", "tokens"]


def normalize(text: str) -> str:
    """The text as the lists read it (its first reading; see `textnorm.fold_words`)."""
    return " ".join(tokens(text))


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

    def find_any(self, readings: Sequence[list[str]]) -> str | None:
        """`find` over each reading of one text (`textnorm.word_readings`)."""
        for toks in readings:
            found = self.find(toks)
            if found is not None:
                return found
        return None

    def matches(self, text: str) -> bool:
        """Plain text (a name, a title): every reading of it."""
        return self.find_any(word_readings(text)) is not None
