"""Names that only the organisation may give: staff titles and the system's own words.

Readers here are often frightened parents; a reader called "coach_maria" or a guest
signing "Moderator" could give advice or demand details with borrowed authority. So a
self-chosen handle (registration, renaming by a reader) and a guest name may not look like
a staff title, and a handle may not be one of the words the service itself shows
("deleted", "guest", ...). Admins still create and rename accounts freely (staff get
staff-like handles through `forum users create` or the admin API), and staff may rename
themselves so.

"Looks like" is judged on what a name looks like (`forum.textnorm.name_skeleton`: the
one normaliser; invisible characters out, NFKC, casefold, Unicode TR39 confusables folded,
small capitals read as letters, digit look-alikes read as letters, i and l as one letter,
everything but letters dropped), so "Соасh" (Cyrillic), "Ｃｏａｃｈ", "𝐂𝐨𝐚𝐜𝐡", "ᴄᴏᴀᴄʜ", "c0ach" and
"adrnin" are all staff titles. A name is refused when that form is a staff title or begins
or ends with one ("coach anna", "Anna-Coach", "m0derator", "5taff_team"); short titles
("mod") only when the whole name. Bidi control characters (which can show "hcaoC" as
"Coach") are refused in names outright (`check_characters`).
"""

from __future__ import annotations

from functools import cache

from forum.errors import BadRequest
from forum.textnorm import has_bidi_control, name_skeleton

# Refused at either end of a name, as well as alone.
STAFF_WORDS = ("administrator", "admin", "moderator", "coach", "staff", "official", "helpdesk")
# Refused only as the whole name (too short, or too common inside ordinary names).
STAFF_EXACT = frozenset({"mod", "mods", "coaches", "support", "supportteam", "team", "sysop", "system", "forum",
                         "security", "abuse", "postmaster", "webmaster", "hostmaster", "noreply", "root", "help"})
# What the service shows by itself, in place of a name: handles only (a guest may sign "Guest").
SYSTEM_HANDLES = frozenset({"guest", "guests", "deleted", "anonymous", "unknown", "null", "none", "undefined",
                            "you", "me", "everyone", "all"})


def fold(name: str) -> str:
    return name_skeleton(name)


@cache
def _folded() -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """The staff words, exact titles and system words in the same folded form (built once)."""
    return (tuple(fold(w) for w in STAFF_WORDS), frozenset(fold(w) for w in STAFF_EXACT),
            frozenset(fold(w) for w in SYSTEM_HANDLES))


def staff_like(name: str) -> bool:
    folded = fold(name)
    words, exact, _ = _folded()
    return folded in exact or any(folded.startswith(word) or folded.endswith(word) for word in words)


def system_word(name: str) -> bool:
    return fold(name) in _folded()[2]


def reserved_handle(handle: str) -> bool:
    return staff_like(handle) or system_word(handle)


def check_characters(field: str, name: str) -> None:
    """400 for a name holding bidi controls: they reorder what a reader sees."""
    if has_bidi_control(name):
        raise BadRequest(f"{field}: must not contain text-direction control characters "
                         "(U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).")


RESERVED_DETAIL = "handle: not available: it reads as a staff title or a word the forum shows itself; choose another."
