"""`edu load`: Locust runs against the local API, headless and bounded by their own run
time: a scenario, a roadmap stage gate (localcloud.loadgate) or the overload drill
(localcloud.loaddrill), optionally beside another process keeping one core busy."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from localcloud.config import CloudConfig

SCENARIO_USERS = {"student": "StudentUser", "search": "SearchUser", "teacher": "TeacherUser"}


def run_load(args: argparse.Namespace) -> int:
    """`edu load`: a scenario, a gate (`--gate`) or the overload drill (`--drill`)."""
    from localcloud.loadgate import GATES, judge

    cfg = CloudConfig.from_env()
    host = args.host or f"http://127.0.0.1:{cfg.api_port}"
    out = cfg.root / "loadtests" / "results"
    out.mkdir(parents=True, exist_ok=True)
    if args.drill:
        return _load_drill(args, cfg, host, out)
    gate = GATES[args.gate] if args.gate else None
    scenario = "student" if gate else args.scenario
    users, rate, duration = args.users, args.rate, args.duration
    env = dict(os.environ)
    if gate:  # statistics restart after every user started and settled: ramp-up not measured
        users, rate = gate.users, gate.spawn_rate
        duration = f"{int(users / rate) + 1 + gate.settle_s + gate.measure_s}s"
        env["EDU_LOAD_SETTLE_S"] = str(gate.settle_s)
        print(f"gate {gate.name}: {gate.summary}\n{users} users, {rate:g}/s, {duration} "
              f"({gate.settle_s} s to settle after the ramp, then {gate.measure_s} s "
              "measured)")
    stem = out / f"{args.gate or scenario}-{time.strftime('%Y%m%d-%H%M%S')}"
    # The scenario's user class, not its tag: with --tags Locust still starts the other
    # classes, which then fail "No tasks defined" in a loop (sending nothing, costing CPU).
    classes = [] if scenario == "mix" else [SCENARIO_USERS[scenario]]
    samples = Path(f"{stem}_samples.csv")
    if args.burn_core:
        env["EDU_LOAD_SAMPLES"] = str(samples)
    with _busy_core(args.burn_core):
        _locust(cfg, ["-f", str(cfg.root / "loadtests" / "locustfile.py"), "-u", str(users),
                      "-r", str(rate), "-t", duration, *classes], host, stem, env)
        quiet = _quiet_after(host) if args.burn_core else None
    stats = Path(f"{stem}_stats.csv")
    if not stats.exists():
        print("edu: locust wrote no statistics", file=sys.stderr)
        return 1
    rows = list(csv.DictReader(stats.open()))
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total is None:
        return 1
    print(f"\n{scenario}: {float(total['Requests/s']):.0f} req/s, "
          f"p50 {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, "
          f"{total['Failure Count']} errors of {total['Request Count']} "
          f"(report {stem}.html)")
    if args.burn_core:
        return _judge_shedding(samples, quiet)
    if gate:
        misses = judge(gate, total)
        print(f"gate {gate.name}: " + ("PASS" if not misses else "FAIL: " + "; ".join(misses)))
        return 0 if not misses else 1
    return 0 if int(total["Failure Count"]) == 0 else 1


def _quiet_after(host: str) -> float | None:
    from localcloud.loaddrill import Drill, quiet_after
    from localcloud.loadgate import GATES

    drill = Drill(GATES["optimisation"])
    return quiet_after(f"{host}/health", drill.gate.p99_ms, drill.recover_s)


def _judge_shedding(samples: Path, quiet: float | None) -> int:
    """With a core taken the machine serves less than the load: what is judged is how it
    refuses the rest (fast 429/503, no other error) and that nothing lingers after."""
    from localcloud.loaddrill import Drill, quiet_misses, read_samples, shedding_misses
    from localcloud.loadgate import GATES

    drill = Drill(GATES["optimisation"])
    answers = read_samples(samples)
    lines: list[str] = []
    misses = shedding_misses(answers, drill.fast_ms) + quiet_misses(
        quiet, drill.recover_s, lines)
    print("\n".join(lines) + f"\n{sum(a.throttled for a in answers)} of {len(answers)} "
          "requests throttled")
    print("with a core taken: " + ("PASS (only fast throttling, nothing lingers)"
                                   if not misses else "FAIL: " + "; ".join(misses)))
    return 0 if not misses else 1


def _locust(cfg: CloudConfig, args: list[str], host: str, stem: Path,
            env: dict[str, str]) -> int:
    """Runs Locust headless (bounded by its own run time)."""
    return subprocess.run(
        [sys.executable, "-m", "locust", "--headless", "--host", host, "--csv", str(stem),
         "--html", f"{stem}.html", "--only-summary", "--stop-timeout", "5", *args],
        check=False, env=env).returncode


@contextlib.contextmanager
def _busy_core(enabled: bool) -> Iterator[None]:
    """Another process keeping one core busy meanwhile (a laptop's IDE, a browser)."""
    if not enabled:
        yield
        return
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


def _load_drill(args: argparse.Namespace, cfg: CloudConfig, host: str, out: Path) -> int:
    from localcloud.loaddrill import Drill, judge, read_samples
    from localcloud.loadgate import GATES

    drill = Drill(GATES["optimisation"])
    phases = drill.phases()
    print(f"overload drill: {phases[0][1]:.0f} users, {phases[1][1]:.0f} users from "
          f"{drill.overload_start:.0f} s to {drill.overload_end:.0f} s, then "
          f"{phases[2][1]:.0f} until {drill.end:.0f} s"
          + (" (one core kept busy by another process)" if args.burn_core else ""))
    stem = out / f"overload-{time.strftime('%Y%m%d-%H%M%S')}"
    samples = Path(f"{stem}_samples.csv")
    env = dict(os.environ, EDU_DRILL_PHASES=json.dumps(phases), EDU_LOAD_SAMPLES=str(samples))
    with _busy_core(args.burn_core):
        _locust(cfg, ["-f", str(cfg.root / "loadtests" / "overload.py")], host, stem, env)
        quiet = _quiet_after(host)
    if not samples.exists():
        print("edu: locust recorded no requests", file=sys.stderr)
        return 1
    verdict = judge(drill, read_samples(samples), quiet, recovery=not args.burn_core)
    print("\n" + "\n".join(verdict.lines))
    print("overload drill: " + ("PASS" if verdict.passed else
                                "FAIL: " + "; ".join(verdict.misses)))
    return 0 if verdict.passed else 1
