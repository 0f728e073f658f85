"""Titles ordered best first, kept sorted as scores change (no full sort per event)."""

from __future__ import annotations

import bisect


class Ranking:
    """A sorted list of (−raw score, title id): best first, ties broken by id."""

    def __init__(self) -> None:
        self._keys: list[tuple[float, str]] = []
        self._key_of: dict[str, tuple[float, str]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, title_id: object) -> bool:
        return title_id in self._key_of

    def set(self, title_id: str, raw: float) -> None:
        """Place a title at its new score."""
        self.remove(title_id)
        key = (-raw, title_id)
        bisect.insort(self._keys, key)
        self._key_of[title_id] = key

    def remove(self, title_id: str) -> None:
        """Take a title out, if it is in."""
        key = self._key_of.pop(title_id, None)
        if key is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]

    def rebuild(self, raw: dict[str, float]) -> None:
        """Replace everything at once (after a full decay pass)."""
        self._key_of = {t: (-r, t) for t, r in raw.items()}
        self._keys = sorted(self._key_of.values())

    def rank(self, title_id: str) -> int:
        """Return a title's 1-based rank."""
        return bisect.bisect_left(self._keys, self._key_of[title_id]) + 1

    def at(self, rank: int) -> str | None:
        """Return the title at a 1-based rank, if there is one."""
        return self._keys[rank - 1][1] if 0 < rank <= len(self._keys) else None

    def top(self, n: int) -> list[str]:
        """Return the best n titles, best first."""
        return [t for _, t in self._keys[:n]]

    def best(self) -> float:
        """Return the best raw score."""
        return -self._keys[0][0]
