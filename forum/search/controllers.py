"""HTTP routes of this domain (filled in by the domain's issue)."""

from typing import Any

ROUTES: list[Any] = []
