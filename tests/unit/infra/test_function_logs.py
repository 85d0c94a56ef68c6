"""What `edu logs` reads: each function's lines in a file of its own, read back in time
order, filtered by age and text, rotated past a size, and followed as they are written."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

import localcloud.runtime.function_logs as function_logs
from localcloud.runtime.function_logs import (
    FunctionLogs,
    follow,
    parse_since,
    read_lines,
)


def test_lines_are_kept_per_function_and_read_back_in_order(tmp_path: Path) -> None:
    logs, passed = FunctionLogs(tmp_path), []
    sink = logs.sink("Catalog", passed.append)
    sink("START RequestId: 1")
    logs.write("Login", "user signed in")
    sink("REPORT RequestId: 1")
    logs.flush()
    assert passed == ["START RequestId: 1", "REPORT RequestId: 1"]  # also printed as before
    everything = read_lines(tmp_path)
    assert [(line.function, line.text) for line in everything] == [
        ("Catalog", "START RequestId: 1"), ("Login", "user signed in"),
        ("Catalog", "REPORT RequestId: 1")]
    assert [line.text for line in read_lines(tmp_path, "Login")] == ["user signed in"]
    assert [line.text for line in read_lines(tmp_path, contains="REPORT")] == [
        "REPORT RequestId: 1"]


def test_since_keeps_only_recent_lines(tmp_path: Path) -> None:
    (tmp_path / "Old.log").write_text("2020-01-01T00:00:00.000+00:00 long ago\n")
    logs = FunctionLogs(tmp_path)
    logs.write("Old", "just now")
    logs.flush()
    assert [line.text for line in read_lines(tmp_path, "Old", parse_since("10m"))] == [
        "just now"]
    assert parse_since("2h") == timedelta(hours=2)
    with pytest.raises(ValueError, match="--since 'soon'"):
        parse_since("soon")


def test_a_big_file_rotates_and_both_are_read(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(function_logs, "ROTATE_BYTES", 600)  # once, after 7 lines
    logs = FunctionLogs(tmp_path)
    for n in range(10):
        logs.write("Busy", f"line {n} " + "x" * 40)
    logs.close()
    assert (tmp_path / "Busy.log.1").exists()
    assert [line.text.split()[1] for line in read_lines(tmp_path, "Busy")] == [
        str(n) for n in range(10)]


def test_follow_yields_new_lines_only(tmp_path: Path) -> None:
    logs = FunctionLogs(tmp_path)
    logs.write("Live", "before")
    logs.flush()
    got: list[str] = []

    def read() -> None:
        for line in follow(tmp_path, "Live", "keep", poll_s=0.05):
            got.append(line.text)
            if len(got) == 2:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.2)
    for text in ("keep 1", "drop", "keep 2"):
        logs.write("Live", text)
        logs.flush()
    reader.join(timeout=5)
    assert got == ["keep 1", "keep 2"]
