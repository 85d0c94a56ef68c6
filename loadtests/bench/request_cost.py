"""CPU per request, by process (gateway + runtime, each function's workers, moto, PostgreSQL,
Redis), for the student routes, one request at a time against a running, seeded, idle stack
(`edu up --snapstart`, `edu seed`). Work a request causes later (events delivered through
queues to consumers) lands in the window of the requests that follow it, so read a row as
"what this route costs the machine", not as the handler's own time.

    .venv/bin/python loadtests/bench/request_cost.py [--n 40] [--api http://127.0.0.1:3000]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

SEED_PASSWORD = "seed-password-2026"
TICKS = os.sysconf("SC_CLK_TCK")


def process_group(pid: str) -> str | None:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    cmd = [a.decode(errors="replace") for a in args if a]
    line = " ".join(cmd)
    script = next((i for i, a in enumerate(cmd) if a.endswith("runtime/bootstrap.py")), None)
    if script is not None and len(cmd) > script + 2:
        return "fn:" + cmd[script + 2]  # bootstrap.py FD HANDLER PATHS
    if "localcloud.moto_server" in line:
        return "moto"
    if "postgres" in line:
        return "postgres"
    if "redis-server" in line:
        return "redis"
    if "bin/edu up" in line:
        return "gateway+runtime"
    if "-m locust" in line or "bin/locust" in line:
        return "locust"  # the load generator: on the same two cores, not the platform
    return None


def process_cpu_s(pid: int | str) -> float | None:
    """CPU seconds (user + system) a process has used, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_by_group() -> dict[str, float]:
    totals: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        used = process_cpu_s(pid)
        if used is None:
            continue
        group = process_group(pid)
        if group:
            totals[group] = totals.get(group, 0.0) + used
    return totals


def measure(name: str, call: Callable[[int], Any], n: int) -> None:
    before, started = cpu_by_group(), time.perf_counter()
    for i in range(n):
        call(i)
    wall = (time.perf_counter() - started) / n
    after = cpu_by_group()
    costs = {k: 1000 * (after[k] - before.get(k, 0.0)) / n for k in after}
    shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(costs.items(), key=lambda kv: -kv[1])
                      if v >= 0.1)
    print(f"{name:28} wall {1000 * wall:6.1f} ms | CPU ms per request: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    args = parser.parse_args()
    api = httpx.Client(base_url=args.api, timeout=30)
    free: list[dict[str, Any]] = []
    cursor = None
    while len(free) < args.n:
        body = api.get("/courses", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
                       ).json()
        free += [c for c in body["items"] if c["price"]["amount"] == 0]
        cursor = body["next_cursor"]
    first = random.randrange(1000, 40000)
    auth = []
    for i in range(args.n):
        token = api.post("/auth/login", json={
            "email": f"student{first + i}@seed.eduplatform.dev", "password": SEED_PASSWORD,
        }).json()["access_token"]
        auth.append({"Authorization": f"Bearer {token}"})
    courses = [c["id"] for c in free[:args.n]]
    lessons = {c: [lesson["id"] for s in api.get(f"/courses/{c}/syllabus").json()["sections"]
                   for lesson in s["lessons"]] for c in courses}

    def progress(i: int, lesson: int, completed: bool) -> None:
        api.put(f"/courses/{courses[i]}/lessons/{lessons[courses[i]][lesson]}/progress",
                headers=auth[i], json={"completed": completed, "position_seconds": 30}
                ).raise_for_status()

    measure("enroll (new)", lambda i: api.post(f"/courses/{courses[i]}/enroll",
                                               headers=auth[i]).raise_for_status(), args.n)
    measure("progress: complete (first)", lambda i: progress(i, 0, True), args.n)
    measure("progress: complete (again)", lambda i: progress(i, 0, True), args.n)
    measure("progress: position save", lambda i: progress(i, -1, False), args.n)
    measure("my enrollments", lambda i: api.get("/me/enrollments",
                                                headers=auth[i]).raise_for_status(), args.n)
    measure("catalog page (cached)", lambda i: api.get("/courses", params={
        "limit": 20, "category": "data"}).raise_for_status(), args.n)
    measure("syllabus", lambda i: api.get(f"/courses/{courses[i]}/syllabus"
                                          ).raise_for_status(), args.n)


if __name__ == "__main__":
    main()
