"""The bounded map and set forget their oldest entries, and only those."""

from __future__ import annotations

from localcloud.bounded import NewestKept, NewestKeptSet


def test_the_map_keeps_the_newest_entries() -> None:
    kept = NewestKept[str, int](3)
    for n in range(5):
        kept[f"k{n}"] = n
    assert list(kept.items()) == [("k2", 2), ("k3", 3), ("k4", 4)]


def test_the_set_keeps_the_newest_members() -> None:
    receipts = NewestKeptSet[str](3)
    receipts.update(["a", "b"])
    receipts.add("c")
    assert "a" in receipts and len(receipts) == 3
    receipts.update(["d", "e"])
    assert len(receipts) == 3
    assert "a" not in receipts and "b" not in receipts
    assert all(member in receipts for member in ("c", "d", "e"))
