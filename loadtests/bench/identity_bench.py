"""Identity benchmarks: login and /me throughput through the local runtime, and argon2id
parameter costs. Not a test: prints numbers for docs/benchmarks.md.

    .venv/bin/python loadtests/bench/identity_bench.py [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in ("infra", "shared", ""):
    sys.path.insert(0, str(ROOT / extra))

import httpx  # noqa: E402

from localcloud.stack import throwaway_cloud  # noqa: E402
from tests.support.platform import start_platform, stop_platform  # noqa: E402

PASSWORD = "correct horse battery staple"


def argon2_costs() -> list[dict[str, float]]:
    from argon2 import PasswordHasher

    rows = []
    for memory_kib, time_cost in ((19 * 1024, 2), (46 * 1024, 1), (64 * 1024, 3)):
        hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)
        digest = hasher.hash(PASSWORD)
        times = []
        for _ in range(15):
            t = time.perf_counter()
            hasher.verify(digest, PASSWORD)
            times.append((time.perf_counter() - t) * 1000)
        rows.append({"memory_mib": memory_kib / 1024, "time_cost": time_cost,
                     "verify_ms": statistics.median(times)})
    return rows


def wrk(args: list[str]) -> dict[str, float]:
    import re

    out = subprocess.run(["wrk", "--latency", *args], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m \
            else float("nan")

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with throwaway_cloud(ROOT) as cloud:
        platform = start_platform(cloud, cloud.config.home / "runtime.log",
                                  LoginLimitPerIp="100000000", LoginLimitPerEmail="100000000",
                                  RegisterLimitPerIp="100000000")
        try:
            api = platform.api
            email = "bench@example.com"
            httpx.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD,
                                                     "full_name": "Bench", "role": "student"},
                       timeout=30).raise_for_status()
            token = httpx.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD},
                               timeout=30).json()["access_token"]
            script = cloud.config.home / "login.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = '{json.dumps({'email': email, 'password': PASSWORD})}'\n")
            c, d = str(args.connections), f"{args.duration}s"
            wrk(["-t2", f"-c{c}", "-d3s", "-H", f"Authorization: Bearer {token}",
                 f"{api}/me"])  # warm-up: cold starts are not throughput
            me = wrk(["-t2", f"-c{c}", f"-d{d}", "-H", f"Authorization: Bearer {token}",
                      f"{api}/me"])
            wrk(["-t2", f"-c{c}", "-d3s", "-s", str(script), f"{api}/auth/login"])
            login = wrk(["-t2", f"-c{c}", f"-d{d}", "-s", str(script), f"{api}/auth/login"])
            wrk(["-t2", f"-c{c}", "-d3s", f"{api}/health"])
            health = wrk(["-t2", f"-c{c}", f"-d{d}", f"{api}/health"])
        finally:
            stop_platform(platform)
    costs = argon2_costs()
    print(f"\n### Identity throughput (wrk -t2 -c{args.connections} -d{args.duration}s, warm)\n")
    print("| endpoint | req/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    for name, r in (("GET /health (baseline)", health), ("GET /me", me),
                    ("POST /auth/login", login)):
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{r['errors']:.0f} |")
    print(f"\n/me / health: {me['rps'] / health['rps']:.2f}x; "
          f"login / health: {login['rps'] / health['rps']:.3f}x\n")
    print("### argon2id verify cost (one core, median of 15)\n")
    print("| memory MiB | iterations | verify ms |")
    print("|---|---|---|")
    for row in costs:
        print(f"| {row['memory_mib']:.0f} | {row['time_cost']:.0f} | {row['verify_ms']:.1f} |")


if __name__ == "__main__":
    main()
