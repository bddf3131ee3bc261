"""Input rules shared by every way a comment body is written (post, edit, moderator edit)."""

from __future__ import annotations

from forum.accounts.reserved import check_characters, staff_like
from forum.errors import BadRequest

BODY_MAX = 10_000
GUEST_NAME_MAX = 40


def clean_body(body: str, field: str = "body") -> str:
    """The body trimmed, NUL bytes removed; 400 naming the field when empty or too long."""
    text = body.replace("\x00", "").strip()
    if not text:
        raise BadRequest(f"{field}: must not be empty")
    if len(text) > BODY_MAX:
        raise BadRequest(f"{field}: at most {BODY_MAX} characters (got {len(text)})")
    return text


def clean_line(value: str, field: str, max_len: int) -> str:
    """A single-line text field (guest name, title): NULs dropped, whitespace folded, 1..max_len."""
    text = " ".join(value.replace("\x00", "").split())
    if not text:
        raise BadRequest(f"{field}: must not be empty")
    if len(text) > max_len:
        raise BadRequest(f"{field}: at most {max_len} characters")
    return text


def clean_guest_name(name: str) -> str:
    check_characters("guest_name", name)
    text = clean_line(name, "guest_name", GUEST_NAME_MAX)
    if staff_like(text):  # forum/accounts/reserved.py: no borrowed authority
        raise BadRequest("guest_name: must not read as a staff title (coach, moderator, admin...); "
                         "sign in as staff, or choose another name.")
    return text
