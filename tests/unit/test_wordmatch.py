"""Word lists: whole words, any case, any accents, phrases; fast with large lists."""

from __future__ import annotations

import random
import string
import time

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


def test_ten_thousand_entries_stay_fast() -> None:
    rng = random.Random(7)
    singles = [_word(rng) for _ in range(5000)]
    phrases = [f"{_word(rng)} {_word(rng)}" for _ in range(5000)]
    t0 = time.perf_counter()
    m = WordMatcher.build(singles + phrases)
    build_s = time.perf_counter() - t0
    text = " ".join(_word(rng) for _ in range(400))  # a long (about 3 KB) comment
    toks = tokens(text)
    t0 = time.perf_counter()
    for _ in range(200):
        assert m.find(toks) is None
    per_check = (time.perf_counter() - t0) / 200
    assert build_s < 1.0, build_s
    assert per_check < 0.002, per_check
    assert m.matches(f"x {phrases[1234].upper()} y")
    assert m.matches(f"x {singles[4321]} y")
