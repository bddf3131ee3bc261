"""Materialized paths for the comment tree.

A comment's `path` is its ancestors' segments followed by its own, root first. A segment
is the comment id in base 62 (ASCII order 0-9 < A-Z < a-z) behind a one-digit length
prefix, so segments are self-delimiting and, under COLLATE "C", ordering by `path`
gives depth first, siblings oldest first (ids grow with time). An index on
(root_id, path) reads any subtree in thread order with one range scan.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_PATH = 2400  # column size; keeps (root_id, path) inside PostgreSQL's btree entry limit


class PathTooDeep(ValueError):
    """The thread is too deep to nest another reply here."""


def segment(comment_id: int) -> str:
    if comment_id < 1:
        raise ValueError("comment ids start at 1")
    digits = []
    n = comment_id
    while n:
        n, r = divmod(n, 62)
        digits.append(ALPHABET[r])
    body = "".join(reversed(digits))
    if len(body) > 9:
        raise ValueError("comment id too large for a path segment")
    return f"{len(body)}{body}"


def child_path(parent_path: str | None, comment_id: int) -> str:
    path = (parent_path or "") + segment(comment_id)
    if len(path) > MAX_PATH:
        raise PathTooDeep(f"replies cannot nest deeper than this thread allows ({MAX_PATH} path characters)")
    return path


def ids_of(path: str) -> list[int]:
    """The ids along a path, root first."""
    out: list[int] = []
    i = 0
    while i < len(path):
        n = int(path[i])
        value = 0
        for ch in path[i + 1:i + 1 + n]:
            value = value * 62 + ALPHABET.index(ch)
        out.append(value)
        i += 1 + n
    return out
