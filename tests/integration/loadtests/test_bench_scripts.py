"""Benchmarks must not rot: every script in loadtests/bench runs here at a tiny size (its
numbers mean nothing at this size; that it still runs against today's code is the point).
Scripts that need a running, seeded stack, another checkout or wrk show their usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "loadtests" / "bench"

TINY = {
    "catalog_bench.py": ["--courses", "300", "--runs", "3"],
    "moto_bench.py": ["--seconds", "1", "--threads", "2"],
    "moto_memory_bench.py": ["--cycles", "40", "--records", "10"],
    "signing_bench.py": ["--calls", "20", "--rounds", "2"],
    "transcode_bench.py": ["--seconds", "2"],
    "response_bench.py": [],
    "websocket_bench.py": ["--connections", "20", "--messages", "1"],
}
USAGE_ONLY = {  # what each needs beyond this test
    "gate_split.py": "a running, seeded stack",
    "queue_drain.py": "a running stack",
    "request_cost.py": "a running, seeded stack",
    "init_ab.py": "another commit's worktree",
    "runtime_ab.py": "another commit's worktree",
    "identity_bench.py": "wrk",
    "runtime_bench.py": "wrk and serverless-offline",
}
MODULES = {"asgi_bare.py", "hop_floor.py"}  # served by the scripts above, not run alone


def test_every_bench_script_is_exercised_here() -> None:
    scripts = {p.name for p in BENCH.glob("*.py")}
    assert scripts == set(TINY) | set(USAGE_ONLY) | MODULES


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_bench_script_runs_at_a_tiny_size(script: str) -> None:
    run = subprocess.run([sys.executable, str(BENCH / script), *TINY[script]],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip(), "a benchmark prints its figures"


@pytest.mark.parametrize("script", sorted(USAGE_ONLY))
def test_a_bench_script_needing_more_still_imports_and_parses_its_arguments(
        script: str) -> None:
    run = subprocess.run([sys.executable, str(BENCH / script), "--help"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "usage:" in run.stdout, run.stderr[-3000:]
