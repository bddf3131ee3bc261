"""moderation.highlight: the words the lists matched, marked in escaped text."""

from __future__ import annotations

from moderation.highlight import mark_words
from moderation.wordmatch import WordMatcher

LISTS = {"banned": WordMatcher.build(["banned", "pre sale"]), "suspect": WordMatcher.build(["pills"]),
         "crisis": WordMatcher.build(["hopeless", "life"])}


def test_plain_words_are_marked_and_nothing_else() -> None:
    text, found = mark_words("These banned pills, and not bannedx or unbanned.", LISTS)
    assert str(text) == ('These <mark class="rule-banned">banned</mark> <mark class="rule-suspect">pills</mark>,'
                         " and not bannedx or unbanned.")
    assert found == {"banned": ["banned"], "suspect": ["pills"]}


def test_everything_is_escaped_and_only_marks_are_markup() -> None:
    text, _ = mark_words('<script>alert(1)</script> "banned" & <b>pills</b>', LISTS)
    assert "<script>" not in str(text) and "&lt;script&gt;" in str(text)
    assert '&#34;<mark class="rule-banned">banned</mark>&#34;' in str(text)
    # a written word with markup-like characters in it: marked whole, its characters escaped
    assert '<mark class="rule-suspect">&lt;b&gt;pills&lt;/b&gt;</mark>' in str(text)
    assert str(text).count("<mark") == 2 and str(text).count("</mark>") == 2


def test_disguised_words_are_marked_whole_as_written() -> None:
    text, found = mark_words("A (ban\u200bned) offer: Pr\u0435-s4le! I feel h0pele55.", LISTS)
    assert '(<mark class="rule-banned">ban\u200bned</mark>)' in str(text)
    assert '<mark class="rule-banned">Pr\u0435-s4le</mark>!' in str(text)
    assert '<mark class="rule-crisis">h0pele55</mark>.' in str(text)
    assert found == {"banned": ["banned", "pre sale"], "crisis": ["hopeless"]}


def test_a_phrase_across_words_and_lines_and_both_readings_of_one() -> None:
    text, found = mark_words("the pre\nsale of my 1ife", LISTS)
    assert str(text) == ('the <mark class="rule-banned">pre</mark>\n<mark class="rule-banned">sale</mark>'
                         ' of my <mark class="rule-crisis">1ife</mark>')
    assert found == {"banned": ["pre sale"], "crisis": ["life"]}


def test_nothing_found() -> None:
    text, found = mark_words("A calm evening & a talk.", LISTS)
    assert str(text) == "A calm evening &amp; a talk." and found == {}
