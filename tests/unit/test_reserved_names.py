"""forum.accounts.reserved: which self-chosen names read as staff titles or system words."""

from __future__ import annotations

import pytest

from forum.accounts.reserved import reserved_handle, staff_like, system_word


@pytest.mark.parametrize("name", [
    "admin", "Administrator", "ADMIN_2", "adm1n", "moderator", "m0derator", "Mod", "mods", "coach", "Coach Maria",
    "coach_maria", "maria.coach", "5taff_team", "staff", "Support", "support-team",
    "official-help", "helpdesk", "system", "Forum", "team", "webmaster", "noreply",
])
def test_staff_titles_at_either_end_or_alone(name: str) -> None:
    assert staff_like(name) and reserved_handle(name)


@pytest.mark.parametrize("name", [
    "modern_mom", "Maria", "roach_fan", "teamwork_dad", "forumreader", "supporter_of_kids", "t_5e7a0c9d3b1f2a4e",
    "Sam", "Passer-by", "Guest", "A guest", "helpful_dad", "mod_squad_mum",
])
def test_ordinary_names_pass(name: str) -> None:
    assert not staff_like(name)


@pytest.mark.parametrize("name", ["guest", "Deleted", "anonymous", "un-known", "null", "undefined", "everyone"])
def test_system_words_are_handles_nobody_chooses(name: str) -> None:
    assert system_word(name) and reserved_handle(name) and not staff_like(name)
