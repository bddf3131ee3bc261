"""forum.textnorm: the one normaliser of word lists and names (what a reader sees)."""

from __future__ import annotations

import pytest

from forum.markup import render_markdown
from forum.textnorm import (
    fold_words,
    has_bidi_control,
    name_skeleton,
    post_readings,
    strip_invisible,
    tokens,
    visible_text,
    word_readings,
)
from moderation.wordmatch import WordMatcher

# Each is "banned" as a reader sees it, disguised one way (Markdown source as posted).
DISGUISED_BANNED = [
    "banned",
    "BANNED",
    "ban&#110;ed",  # a decimal entity
    "ban&#x6e;ed",  # a hex entity
    "b&#97;nned",
    "ba*nned*",  # emphasis splitting the word
    "ba**nned**",
    "*b*anned",
    "ba`nned`",  # code span
    "ban\u200bned",  # zero-width space
    "ban\u200cned",  # zero-width non-joiner
    "ban\u200dned",  # zero-width joiner
    "ban\u2060ned",  # word joiner
    "ban\u00adned",  # soft hyphen
    "ban\ufeffned",  # BOM
    "b\u2063anned",  # invisible separator (another format character)
    "b\u0430nned",  # Cyrillic a
    "b\u0251nned",  # Latin alpha
    "ｂａｎｎｅｄ",  # full-width
    "\U0001d41b\U0001d41a\U0001d427\U0001d427\U0001d41e\U0001d41d",  # mathematical bold
    "b4nned",  # letter-digit substitutions
    "b@nned",
    "bänned",  # accents
    "banne\u0301d",  # combining accent
]


@pytest.mark.parametrize("source", DISGUISED_BANNED)
def test_disguised_word_reads_as_the_word(source: str) -> None:
    matcher = WordMatcher.build(["banned"])
    assert matcher.find_any(post_readings(render_markdown(source))) == "banned", post_readings(render_markdown(source))


@pytest.mark.parametrize("source", ["s3ll1ng", "$elling", "5ELLING", "se11ing", "ѕеllіng"])
def test_letter_digit_and_lookalike_substitutions(source: str) -> None:
    assert WordMatcher.build(["selling"]).find_any(word_readings(source)) == "selling"


@pytest.mark.parametrize("text", ["bannedx", "unbanned", "ban ned", "burn", "plugin", "bann"])
def test_other_words_stay_other_words(text: str) -> None:
    assert WordMatcher.build(["banned", "bum", "plug"]).find_any(post_readings(render_markdown(text))) is None


def test_entries_are_folded_like_the_text() -> None:
    matcher = WordMatcher.build(["ｓｅｌｌ", "b\u0430d word"])
    assert matcher.matches("I sell") and matcher.matches("a bad w0rd")


def test_visible_text_drops_inline_tags_and_splits_blocks() -> None:
    html = "<p>ba<em>nn</em>ed</p><p>next</p><ul><li>one</li><li>two</li></ul>"
    assert visible_text(html).split() == ["banned", "next", "one", "two"]


def test_visible_text_keeps_link_targets_and_decodes_entities() -> None:
    html = '<p><a href="https://spam.example/buy" rel="nofollow">here</a> &amp; &lt;there&gt;</p>'
    text = visible_text(html)
    assert "here & <there>" in text and "https://spam.example/buy" in text


def test_invisible_characters_removed() -> None:
    assert strip_invisible("a\u200bb\u00adc\u2060d\ufeffe\u200df\u034fg\ufe0fh") == "abcdefgh"


def test_fold_words_gives_two_readings_of_one() -> None:
    assert fold_words("w1ld") == ["wild", "wlld"]
    assert fold_words("adm1n") == ["admin", "admln"]
    assert fold_words("plain") == ["plain"]
    assert tokens("Pré-sale") == ["pre", "sale"]


def test_a_long_post_reads_as_its_words() -> None:
    """Its cost is scenario 6 of bench/ (posting with 10,000 listed words), not timed here."""
    html = render_markdown("When my son came home late again I tried the *pause* and name it approach. " * 40)
    readings = post_readings(html)
    assert readings and all(len(r) == 15 * 40 for r in readings)
    assert readings[0][:8] == ["when", "my", "son", "came", "home", "late", "again", "i"]
    assert post_readings(html) == readings


# ---------------------------------------------------------------- names

STAFF_DISGUISES = [
    "Coach", "\u0421\u043e\u0430\u0441h",  # Cyrillic С, о, а, с
    "Ｃｏａｃｈ", "\U0001d402\U0001d428\U0001d41a\U0001d41c\U0001d421",  # full-width, math bold
    "\U0001d4d2\U0001d4f8\U0001d4ea\U0001d4ec\U0001d4f1",  # math bold script
    "\u1d04\u1d0f\u1d00\u1d04\u029c",  # small capitals
    "C0ach", "c.o.a.c.h", "co\u200bach",  # digit, separators, invisible
    "adrnin", "AdmIn", "Admln", "ADM1N", "rnoderator", "m\u043ederat\u043er",
    "ꜱᴛᴀꜰꜰ", "𝓜𝓸𝓭", "Ｍｏｄｅｒａｔｏｒ", "he1pdesk", "0fficial",
]


@pytest.mark.parametrize("name", STAFF_DISGUISES)
def test_staff_lookalikes_share_the_skeleton_of_a_staff_word(name: str) -> None:
    from forum.accounts.reserved import staff_like

    assert staff_like(name), name_skeleton(name)


@pytest.mark.parametrize("name", ["Maria", "Anna", "William", "Emily", "Roach", "Cochise", "Modesty", "Ahmed",
                                  "Оля", "李雷", "José", "mod_squad_mum", "Sam", "teamwork_dad"])
def test_ordinary_names_are_not_staff(name: str) -> None:
    from forum.accounts.reserved import staff_like

    assert not staff_like(name), name_skeleton(name)


def test_skeletons_are_equal_for_lookalikes() -> None:
    assert name_skeleton("Соасh") == name_skeleton("coach") == name_skeleton("ＣＯＡＣＨ")
    assert name_skeleton("adrnin") == name_skeleton("admin")
    assert name_skeleton("Maria") != name_skeleton("Marta")


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                     "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"])
def test_bidi_controls_are_found(control: str) -> None:
    assert has_bidi_control(f"ab{control}cd")
    assert not has_bidi_control("abcd \u05d0\u05d1")  # right-to-left letters themselves are fine
