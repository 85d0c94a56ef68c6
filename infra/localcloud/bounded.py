"""A bounded map and set for what must not grow with how long the process runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class NewestKept(dict[K, V], Generic[K, V]):
    """A dict that forgets its oldest entries beyond `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.limit:
            del self[next(iter(self))]


class NewestKeptSet(Generic[K]):
    """A set that forgets its oldest members beyond `limit` (the operations moto uses)."""

    def __init__(self, limit: int) -> None:
        self._members = NewestKept[K, None](limit)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: K) -> None:
        self._members[member] = None

    def update(self, members: Iterable[K]) -> None:
        for member in members:
            self._members[member] = None
