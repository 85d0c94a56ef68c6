"""Signed cursors: a position comes back as it was encoded; a forged, foreign or
wrongly shaped one is a 400, never a crash further on."""

from __future__ import annotations

import pytest

from edu.errors import BadRequest
from edu.pagination import CursorCodec


def test_a_cursor_carries_its_position_back() -> None:
    codec = CursorCodec("secret")
    cursor = codec.encode(["2026-12-07T10:00:00+00:00", "id-1"], "q")
    assert codec.decode(cursor, "q", (str, str)) == ["2026-12-07T10:00:00+00:00", "id-1"]


@pytest.mark.parametrize("position,kinds", [
    ([], (str,)),                      # empty: the caller's [0] would crash
    ([1, 2], (str,)),                  # too long
    ([{"a": 1}], (str,)),              # junk of the wrong kind
    ([True, "id"], ((str, int), str)),  # a bool is not a price
])
def test_a_signed_cursor_of_another_layout_is_a_400(position: list[object],
                                                     kinds: tuple[type, ...]) -> None:
    codec = CursorCodec("secret")
    with pytest.raises(BadRequest):
        codec.decode(codec.encode(position, "q"), "q", kinds)


def test_forged_and_foreign_cursors_are_refused() -> None:
    codec = CursorCodec("secret")
    cursor = codec.encode(["x"], "q")
    with pytest.raises(BadRequest):
        CursorCodec("other").decode(cursor, "q")
    with pytest.raises(BadRequest):
        codec.decode(cursor, "another query")
    with pytest.raises(BadRequest):
        codec.decode("not-a-cursor", "q")
