"""Word lists: whole words, any case, any accents, phrases; fast with large lists."""

from __future__ import annotations

import random
import string

from moderation.wordmatch import WordMatcher, normalize, tokens


def test_normalize_drops_accents_and_case() -> None:
    assert normalize("ÉLAN Crème Straße") == "elan creme strasse"


def test_whole_words_only() -> None:
    m = WordMatcher.build(["plug"])
    assert m.matches("my plug said")
    assert m.matches("PLUG!")
    assert not m.matches("plugin and unplugged")
    assert not m.matches("spark-plugs")


def test_accents_and_case_on_both_sides() -> None:
    m = WordMatcher.build(["Café"])
    assert m.matches("meet at the CAFE")
    assert m.matches("cafe\u0301")  # combining acute accent
    m2 = WordMatcher.build(["cafe"])
    assert m2.matches("un café noir")


def test_phrases_match_across_whitespace_and_punctuation() -> None:
    m = WordMatcher.build(["dm me", "kill myself"])
    assert m.matches("just DM\n  me, ok")
    assert m.matches("I want to kill  myself")
    assert not m.matches("dm meeting")
    assert not m.matches("me dm")
    assert m.find(tokens("so dm me")) == "dm me"


def test_empty_entries_and_lists() -> None:
    m = WordMatcher.build(["", "  ", "!!"])
    assert not m
    assert not m.matches("anything at all")


def test_underscore_joins_a_token() -> None:
    assert not WordMatcher.build(["selling"]).matches("reason selling_or_sourcing")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12)))


def test_ten_thousand_entries_all_match() -> None:
    """Their cost: tests/integration/test_perf_rules.py counts the lookups, bench/ times them."""
    rng = random.Random(7)
    singles = [_word(rng) for _ in range(5000)]
    phrases = [f"{_word(rng)} {_word(rng)}" for _ in range(5000)]
    m = WordMatcher.build(singles + phrases)
    text = " ".join(_word(rng) for _ in range(400))  # a long (about 3 KB) comment
    listed = {" ".join(tokens(e)) for e in singles + phrases}
    toks = tokens(text)
    assert (m.find(toks) is None) == (not any(" ".join(toks[i:i + k]) in listed
                                              for i in range(len(toks)) for k in (1, 2)))
    assert m.matches(f"x {phrases[1234].upper()} y")
    assert m.matches(f"x {singles[4321]} y")
