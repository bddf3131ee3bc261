"""Default word lists: selling/sourcing phrases (held), crisis words (urgent), a few
slurs and threats (refused). Only fills lists that are still empty, so an installation's
own lists are never overwritten."""

from migrations.raw import raw_forwards

ID = "2026-11-26T19:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "default moderation word lists"

# Selling and sourcing: honest talk about use stays public, contact-me-to-buy is held.
SUSPECT_WORDS = [
    "dm me", "pm me", "hmu", "hit me up", "text me", "telegram", "wickr", "wickr me", "signal me",
    "whatsapp me", "snapchat me", "kik me", "threema", "session id", "for sale", "selling cheap",
    "plug", "connect me", "cash app", "cashapp", "venmo me", "zelle me", "paypal me", "bitcoin only",
    "crypto only", "discreet shipping", "discreet delivery", "ship worldwide", "stealth shipping",
    "darknet", "dark web", "escrow", "pressed bars", "bulk price",
]
CRISIS_WORDS = [
    "suicide", "suicidal", "kill myself", "killing myself", "end my life", "ending my life",
    "take my own life", "want to die", "wanna die", "wish i was dead", "better off dead",
    "no reason to live", "overdosing", "overdose on purpose", "hurt myself", "self harm",
    "cut myself", "can't go on", "cannot go on",
]
BANNED_WORDS = [
    "kill yourself", "kys", "go kill yourself", "i will kill you", "i'm going to kill you",
    "nigger", "faggot", "kike", "tranny",
]

# Only lists that are still empty are filled: an admin's own lists are never overwritten.
STEPS = [
    (f"UPDATE moderation_rules SET {column} = {{}} WHERE cardinality({column}) = 0", [words])
    for column, words in (("suspect_words", SUSPECT_WORDS), ("crisis_words", CRISIS_WORDS),
                          ("banned_words", BANNED_WORDS))
]


forwards = raw_forwards(ID, "moderation", DESCRIPTION, STEPS)
