"""A/B of the local runtime between two commits, interleaved in one run: CPU per request of
the gateway process and of its workers, and the request rate, under a closed-loop load.

The old commit is checked out into a temporary git worktree; each round starts
`edu local start-api` on the bench template from the old tree, then from the new (the
working tree), loads one path with keep-alive clients and reads /proc. Not a test.

    .venv/bin/python loadtests/bench/runtime_ab.py --old REV [--path /bare] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from request_cost import process_cpu_s
from runtime_bench import ROOT, free_port, start, stop


def cpu_s(pid: int, with_children: bool) -> float:
    pids = [pid]
    if with_children:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return sum(process_cpu_s(p) or 0.0 for p in pids)


def load(port: int, path: str, clients: int, duration_s: float) -> int:
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration_s

    def client() -> None:
        conn, n = http.client.HTTPConnection("127.0.0.1", port), 0
        while time.monotonic() < stop:
            conn.request("GET", path)
            conn.getresponse().read()
            n += 1
        with lock:
            done[0] += n

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0]


def measure(tree: Path, path: str, clients: int, duration_s: float) -> tuple[float, float, float]:
    """(req/s, gateway µs per request, gateway + workers µs per request) for one tree."""
    port, lambda_port = free_port(), free_port()
    proc = start([sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t",
                  str(tree / "loadtests/bench/template.yaml"), "--port", str(port),
                  "--lambda-port", str(lambda_port), "--no-triggers", "--no-watch"],
                 port, env=dict(os.environ, PYTHONPATH=str(tree / "infra")), cwd=tree)
    try:
        load(port, path, clients, 2.0)  # warm workers: cold starts are not throughput
        gateway, everything = cpu_s(proc.pid, False), cpu_s(proc.pid, True)
        n = load(port, path, clients, duration_s)
        return (n / duration_s, 1e6 * (cpu_s(proc.pid, False) - gateway) / n,
                1e6 * (cpu_s(proc.pid, True) - everything) / n)
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the commit to compare against")
    parser.add_argument("--path", default="/bare", help="/bare or /fastapi")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--duration", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="runtime-ab-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.old],
                       cwd=ROOT, check=True)
        try:
            for _ in range(args.rounds):
                for name, tree in (("old", old), ("new", ROOT)):
                    rate, gateway, total = measure(tree, args.path, args.clients,
                                                   args.duration)
                    print(f"{name}: {rate:.0f} req/s, gateway {gateway:.0f} µs/request, "
                          f"workers {total - gateway:.0f} µs/request", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           check=False)


if __name__ == "__main__":
    main()
