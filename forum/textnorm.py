"""The one normaliser for every comparison of human text: word lists and names.

A reader sees rendered text, not bytes: `ba&#101;d`, `ba*nned*`, `ban\u200bned`, `bаnned` (a
Cyrillic a), `b4nned` and `ＢＡＮＮＥＤ` all read as "banned". So what is compared is what a
reader sees, folded the same way on both sides (the text and the list entry or staff title):

1. `visible_text`: rendered HTML to text (tags dropped, so emphasis does not split a word;
   entities decoded with `html.unescape`; link targets kept, a reader follows them too);
2. invisible characters removed (every format character, category Cf: zero-width space,
   joiners, word joiner, soft hyphen, BOM, bidi controls; plus the other default-ignorable
   fillers and variation selectors);
3. Unicode NFKC (full-width forms, mathematical alphabets, ligatures), casefold, accents
   dropped (NFKD without combining marks: "Pré" = "pre");
4. confusables folded with the Unicode TR39 confusables data (`confusable_homoglyphs`,
   which ships confusables.txt as JSON; see `_Confusables`);
5. letter-digit substitutions read as letters: 0->o, 1->i (and 1->l as a second reading),
   3->e, 4->a, 5->s, 7->t, @->a, $->s.

Words and names differ in one place. Names use the whole TR39 skeleton, including the
mappings of one character to several (`m` reads as `rn`, `d` as `cl`), and read `i` and `l`
as one letter: a name only needs to *look* like a staff title. Word lists use the
one-to-one mappings only: with `rn` = `m` an entry "bum" would hold every "burn".
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache

# Bidi controls: embeddings/overrides, isolates, marks. Refused in names outright (an RLO
# shows "hcaoC" as "Coach"); removed from words like every invisible character.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Default-ignorable characters that are not format (Cf) characters.
_OTHER_IGNORABLE = ("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
                    + "".join(chr(c) for c in range(0xFE00, 0xFE10)))
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_TOKEN = re.compile(r"\w+")

# Block-level tags become line breaks; inline tags (em, strong, code, a...) vanish, so
# `ba<em>nned</em>` reads "banned" as on screen.
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|hr|li|ul|ol|blockquote|pre|h[1-6]|table|thead|tbody|tr|td|th)\b[^>]*>",
                        re.IGNORECASE)
_LINK_TARGET = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_ALT = re.compile(r"""<img\b[^>]*?\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SMALL_CAPITAL = re.compile(r"(?:LATIN|MODIFIER) LETTER SMALL CAPITAL ([A-Z])")


@cache
def _invisible_table() -> dict[int, None]:
    """Every Cf character and the other default ignorables, to delete with str.translate."""
    table: dict[int, None] = {ord(c): None for c in _OTHER_IGNORABLE}
    # Format characters live in planes 0, 1 and 14 only (tags, variation selectors).
    for cp in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(cp)) == "Cf":
            table[cp] = None
    for cp in range(0xE0100, 0xE01F0):  # variation selectors supplement
        table[cp] = None
    return table


def strip_invisible(text: str) -> str:
    if text.isascii():
        return text
    return text.translate(_invisible_table())


def has_bidi_control(text: str) -> bool:
    return any(c in BIDI_CONTROLS for c in text)


def visible_text(rendered_html: str) -> str:
    """What a reader sees of sanitized HTML: text with entities decoded, plus link and image
    targets and image descriptions (each on its own line)."""
    extra = [a or b for a, b in _LINK_TARGET.findall(rendered_html)]
    extra += [a or b for a, b in _ALT.findall(rendered_html)]
    text = _TAG.sub("", _BLOCK_TAG.sub("\n", rendered_html))
    if extra:
        text = "\n".join([text, *extra])
    return html.unescape(text)


class _Confusables:
    """TR39 confusables as translation tables, built once from `confusable_homoglyphs`.

    That package keeps confusables.txt as a symmetric map (each source listed with its
    prototype and each prototype with its sources), not the one-way source -> prototype
    table that a TR39 `skeleton()` needs, and no maintained pure-Python package offers
    skeleton() (ICU's SpoofChecker does, but PyICU needs the ICU headers to build). Each
    connected group of that map is exactly one prototype with its sources, so every member
    is given one representative: the group's multi-character prototype when it has one
    (names only: `m` -> `rn`), else its ASCII letter, else its smallest member. Two strings
    then fold alike exactly when their TR39 skeletons are equal (before step 5 above).
    """

    def __init__(self) -> None:
        from confusable_homoglyphs.utils import load  # a 900 KB JSON: loaded on first use only

        data: dict[str, list[dict[str, str]]] = load("confusables.json")
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.setdefault(root, root) != root:
                root = parent[root]
            while parent[x] != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        def clean(s: str) -> str:  # RTL entries are stored wrapped in LRM marks
            return s.replace("\u200e", "")

        for key, entries in data.items():
            a = clean(key)
            for entry in entries:
                b = clean(entry["c"])
                if a and b:
                    ra, rb = find(a), find(b)
                    if ra != rb:
                        parent[ra] = rb
        groups: dict[str, list[str]] = {}
        for member in list(parent):
            groups.setdefault(find(member), []).append(member)
        self.words: dict[int, str] = {}
        multi: dict[str, str] = {}
        for members in groups.values():
            singles = [m for m in members if len(m) == 1]
            if not singles:
                continue
            lower = sorted(m for m in singles if m.isascii() and m.islower())
            upper = sorted(m for m in singles if m.isascii() and m.isupper())
            rep = (lower or upper or [min(singles)])[0].casefold()
            longs = sorted(m for m in members if len(m) > 1)
            for m in singles:
                if m != rep:
                    self.words[ord(m)] = rep
                if longs:
                    multi[m] = longs[0]
        # Small capitals (ᴄᴏᴀᴄʜ) have no decomposition and most are absent from
        # confusables.txt: their Unicode names say which letter they show.
        for cp in range(0x250, 0xAB70):
            small = _SMALL_CAPITAL.fullmatch(unicodedata.name(chr(cp), ""))
            if small is not None:
                self.words[cp] = small.group(1).lower()
        # names: the one-to-one table, then the multi-character prototypes folded by it
        self.names: dict[int, str] = dict(self.words)
        for m, proto in multi.items():
            self.names[ord(m)] = proto.casefold().translate(self.words)


@cache
def _confusables() -> _Confusables:
    return _Confusables()


def _base(text: str) -> str:
    """Steps 2-3: invisible characters out, NFKC, casefold, accents dropped."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", strip_invisible(text)).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_LEET_TABLE = str.maketrans(_LEET)
_ONE_AS_I = str.maketrans({"1": "i"})
_ONE_AS_L = str.maketrans({"1": "l"})


def fold_words(text: str) -> list[str]:
    """The text as the word lists see it, one string per reading (two when it has a `1`:
    read as i and as l). `text` is plain text (see `visible_text` for HTML)."""
    base = _base(text).translate(_LEET_TABLE)
    readings = [base.translate(_ONE_AS_I)]
    if "1" in base:
        readings.append(base.translate(_ONE_AS_L))
    if not base.isascii():
        table = _confusables().words
        readings = [r.translate(table) for r in readings]
    return readings


def word_readings(text: str) -> list[list[str]]:
    """The token lists to match word lists against (see `fold_words`)."""
    return [_TOKEN.findall(reading) for reading in fold_words(text)]


def tokens(text: str) -> list[str]:
    """The tokens of one list entry (or of text read the first way)."""
    return _TOKEN.findall(fold_words(text)[0])


def post_readings(body_html: str, title: str = "") -> list[list[str]]:
    """Once per post: the readings of what a reader sees (title and rendered body)."""
    text = visible_text(body_html)
    return word_readings(f"{title}\n{text}" if title else text)


def name_skeleton(name: str) -> str:
    """A name as it looks: the TR39 skeleton of its folded form, `i` and `l` as one
    letter, letters only ("Ｃｏａｃｈ", "Соасh", "C0ach", "c.o.a.c.h" all give one form)."""
    base = _base(name).translate(_LEET_TABLE).translate(_confusables().names)
    return "".join(c for c in base if c.isalpha()).replace("i", "l")
