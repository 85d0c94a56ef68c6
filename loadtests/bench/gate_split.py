"""Where the machine's CPU goes under a load gate, and what the student mix's write path
costs relative to its read path in the same run.

Runs `edu load --gate NAME` against the running, seeded stack; once the gate's statistics
have settled it samples each process group's CPU (request_cost.cpu_by_group) for a window,
then reads Locust's stats CSV for the request rates. This machine's speed drifts by ±30%
between runs, so a before/after comparison of the write path uses the read routes (catalog,
course, syllabus, search, my enrollments: code a write-path change leaves alone) as the
yardstick measured in the same run: "write functions per enroll+progress pair, in read
requests' worth of CPU".

    .venv/bin/python loadtests/bench/gate_split.py [--gate optimisation] [--window 30]
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import threading
import time
from pathlib import Path

from request_cost import cpu_by_group

ROOT = Path(__file__).resolve().parents[2]
READ_ROUTES = ("/courses", "/courses/[id]", "/courses/[id]/syllabus", "/search",
               "/me/enrollments")
READ_FUNCTIONS = ("catalog.handler", "get.handler", "syllabus.handler", "search.handler",
                  "my_enrollments.handler")
# Request path of the enroll+progress task and what its events cause downstream.
WRITE_FUNCTIONS = ("enroll.handler", "progress.handler", "consumer.handler",
                   "projector.handler", "fanout.handler", "outbox_stream.handler")


def sample(delay_s: float, window_s: float, out: dict[str, float]) -> None:
    time.sleep(delay_s)
    before, started = cpu_by_group(), time.monotonic()
    time.sleep(window_s)
    after, elapsed = cpu_by_group(), time.monotonic() - started
    out.update({k: 1000 * (v - before.get(k, 0.0)) / elapsed for k, v in after.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gate", default="optimisation")
    parser.add_argument("--delay", type=float, default=50.0,
                        help="seconds from the start to the window (ramp and settling)")
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    cpu_ms_per_s: dict[str, float] = {}
    sampler = threading.Thread(target=sample, args=(args.delay, args.window, cpu_ms_per_s))
    sampler.start()
    run = subprocess.run([str(ROOT / ".venv/bin/edu"), "load", "--gate", args.gate],
                         capture_output=True, text=True, cwd=ROOT)
    sampler.join()
    print(run.stdout.strip().splitlines()[-2] if run.stdout.strip() else run.stderr)
    report = re.search(rf"{args.gate}-[0-9-]+", run.stdout)
    if report is None or not cpu_ms_per_s:
        raise SystemExit("no gate report or CPU sample")
    rows = {r["Name"]: r for r in csv.DictReader(
        (ROOT / "loadtests/results" / f"{report.group(0)}_stats.csv").open())}
    rps = float(rows["Aggregated"]["Requests/s"])
    pairs = float(rows["/courses/[id]/enroll"]["Requests/s"])
    reads = sum(float(rows[name]["Requests/s"]) for name in READ_ROUTES if name in rows)

    def group_ms(names: tuple[str, ...]) -> float:
        return sum(cpu_ms_per_s.get(f"fn:{name}", 0.0) for name in names)

    locust_ms = cpu_ms_per_s.pop("locust", 0.0)
    read_ms = group_ms(READ_FUNCTIONS) / reads
    write_ms = group_ms(WRITE_FUNCTIONS) / pairs
    moto_ms = cpu_ms_per_s.get("moto", 0.0) / pairs
    total = sum(cpu_ms_per_s.values())
    print(f"platform (all but Locust): {total / 10:.0f}% of one core at {rps:.0f} req/s = "
          f"{total / rps:.2f} ms CPU per request")
    for name, ms in sorted(cpu_ms_per_s.items(), key=lambda kv: -kv[1])[:16]:
        print(f"  {ms / 10:5.1f}%  {name}")
    print(f"Locust (the load generator): {locust_ms / 10:.0f}% of one core = "
          f"{locust_ms / rps:.2f} ms CPU per request")
    print(f"read functions: {1000 * read_ms:.0f} µs per read request (the yardstick)")
    print(f"write functions: {write_ms:.2f} ms per enroll+progress pair = "
          f"{write_ms / read_ms:.1f} read requests")
    print(f"moto: {moto_ms:.2f} ms per enroll+progress pair = {moto_ms / read_ms:.1f} read "
          "requests")
    print(f"platform per request: {total / rps / read_ms:.2f} read requests")


if __name__ == "__main__":
    main()
