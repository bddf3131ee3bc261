"""Names that only the organisation may give: staff titles and the system's own words.

Readers here are often frightened parents; a reader called "coach_maria" or a guest
signing "Moderator" could give advice or demand details with borrowed authority. So a
self-chosen handle (registration, renaming by a reader) and a guest name may not look like
a staff title, and a handle may not be one of the words the service itself shows
("deleted", "guest", ...). Admins still create and rename accounts freely (staff get
staff-like handles through `forum users create` or the admin API), and staff may rename
themselves so.

"Looks like" is judged on a folded form: lower case, common digit look-alikes read as
letters (0->o, 1->i, 3->e, 4->a, 5->s, 7->t, @->a), everything but letters dropped. A name
is refused when that form is a staff title or begins or ends with one ("coach anna",
"Anna-Coach", "m0derator", "5taff_team"); short titles ("mod") only when the whole name.
"""

from __future__ import annotations

_LOOKALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})

# Refused at either end of a name, as well as alone.
STAFF_WORDS = ("administrator", "admin", "moderator", "coach", "staff", "official", "helpdesk")
# Refused only as the whole name (too short, or too common inside ordinary names).
STAFF_EXACT = frozenset({"mod", "mods", "coaches", "support", "supportteam", "team", "sysop", "system", "forum",
                         "security", "abuse", "postmaster", "webmaster", "hostmaster", "noreply", "root", "help"})
# What the service shows by itself, in place of a name: handles only (a guest may sign "Guest").
SYSTEM_HANDLES = frozenset({"guest", "guests", "deleted", "anonymous", "unknown", "null", "none", "undefined",
                            "you", "me", "everyone", "all"})


def fold(name: str) -> str:
    return "".join(c for c in name.lower().translate(_LOOKALIKES) if c.isalpha())


def staff_like(name: str) -> bool:
    folded = fold(name)
    return folded in STAFF_EXACT or any(
        folded.startswith(word) or folded.endswith(word) for word in STAFF_WORDS)


def system_word(name: str) -> bool:
    return fold(name) in SYSTEM_HANDLES


def reserved_handle(handle: str) -> bool:
    return staff_like(handle) or system_word(handle)


RESERVED_DETAIL = "handle: not available: it reads as a staff title or a word the forum shows itself; choose another."
