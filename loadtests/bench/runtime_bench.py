"""Benchmarks of the local runtime (issue: local FaaS runtime). Not a test: prints numbers.

    .venv/bin/python loadtests/bench/runtime_bench.py [--duration 10] [--sls-dir DIR]

1. Throughput through `edu local start-api` (wrk) for a bare handler and a FastAPI+Mangum
   function, against the same apps under uvicorn (1 and 2 workers) and, when --sls-dir
   holds `npm install serverless@3 serverless-offline@13`, serverless-offline - one run.
2. Warm invoke overhead: a warm worker's round trip vs calling the handler in-process.
3. Cold start: Init Duration and first response, normal vs fork "SnapStart".
Results: a markdown table on stdout and JSON in loadtests/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "infra"))

from localcloud.procs import free_port, port_open  # noqa: E402
from localcloud.runtime.pool import FunctionPool  # noqa: E402
from localcloud.template import load_template  # noqa: E402

TEMPLATE = HERE / "template.yaml"
PATHS = {"bare": "/bare", "fastapi": "/fastapi"}
PY = sys.executable


# --- process helpers -------------------------------------------------------------------


def start(argv: list[str], port: int, env: dict[str, str] | None = None,
          cwd: Path = ROOT, log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{argv[:3]} did not start" +
                               (f": {log.read_text()[-2000:]}" if log else ""))
        time.sleep(0.1)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_err = int(errors.group(1)) if errors else 0
    if sock:
        n_err += sum(int(x) for x in sock.groups())
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"), "errors": n_err}


def warm_then_wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    wrk(url, 3, connections)  # warm-up: cold starts are not throughput
    return wrk(url, duration, connections)


def measure(base: str, duration: int, connections: int) -> dict[str, dict[str, float]]:
    return {name: warm_then_wrk(base + path, duration, connections)
            for name, path in PATHS.items()}


# --- 1. throughput ---------------------------------------------------------------------


def bench_edu(duration: int, connections: int, log_dir: Path, snapstart: bool = False
              ) -> dict[str, dict[str, float]]:
    port, lport = free_port(), free_port()
    argv = [PY, "-m", "localcloud.cli", "local", "start-api", "-t", str(TEMPLATE),
            "--port", str(port), "--lambda-port", str(lport), "--no-triggers", "--no-watch"]
    if snapstart:
        argv.append("--snapstart")
    proc = start(argv, port, log=log_dir / "edu.log")
    try:
        return measure(f"http://127.0.0.1:{port}", duration, connections)
    finally:
        stop(proc)


def bench_uvicorn(workers: int, duration: int, connections: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, app_dir, app in (("bare", HERE, "asgi_bare:app"),
                               ("fastapi", HERE / "functions", "fastapi_app:app")):
        port = free_port()
        proc = start([PY, "-m", "uvicorn", "--app-dir", str(app_dir), app, "--port", str(port),
                      "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
                     port)
        try:
            time.sleep(1.0 if workers > 1 else 0.2)
            results[name] = warm_then_wrk(f"http://127.0.0.1:{port}{PATHS[name]}", duration,
                                          connections)
        finally:
            stop(proc)
    return results


def bench_hop_floor(duration: int, connections: int) -> dict[str, dict[str, float]]:
    """uvicorn handing each request to one of `connections` worker processes (hop_floor.py):
    the least a runtime with per-function processes pays on this server and machine."""
    results = {}
    for name in PATHS:
        port = free_port()
        env = {**os.environ, "HOP_FLOOR_HANDLER": name,
               "HOP_FLOOR_WORKERS": str(connections)}
        proc = start([PY, "-m", "uvicorn", "--app-dir", str(HERE), "hop_floor:app",
                      "--port", str(port), "--no-access-log", "--log-level", "warning"],
                     port, env=env)
        try:
            results[name] = warm_then_wrk(f"http://127.0.0.1:{port}{PATHS[name]}", duration,
                                          connections)
        finally:
            stop(proc)
    return results


SLS_YML = """service: edu-bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
plugins:
  - serverless-offline
custom:
  serverless-offline:
    noPrependStageInUrl: true
    noAuth: true
functions:
  bare:
    handler: bare.handler
    events:
      - httpApi: {path: /bare, method: get}
  fastapi:
    handler: fastapi_app.handler
    events:
      - httpApi: {path: /fastapi, method: get}
"""


def bench_serverless_offline(sls_dir: Path, duration: int, connections: int, log_dir: Path
                             ) -> dict[str, dict[str, float]]:
    for f in (HERE / "functions").glob("*.py"):
        shutil.copy(f, sls_dir / f.name)
    (sls_dir / "serverless.yml").write_text(SLS_YML)
    port, lport = free_port(), free_port()
    env = dict(os.environ, PATH=f"{Path(PY).parent}:{os.environ['PATH']}",
               SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
               AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    proc = start([str(sls_dir / "node_modules/.bin/serverless"), "offline", "start",
                  "--httpPort", str(port), "--lambdaPort", str(lport), "--host", "127.0.0.1"],
                 port, env=env, cwd=sls_dir, log=log_dir / "serverless-offline.log")
    try:
        return measure(f"http://127.0.0.1:{port}", duration, connections)
    finally:
        stop(proc)


# --- 2. warm invoke overhead -------------------------------------------------------------


class _Ctx:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = "512"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(path: str) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"GET {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "localhost"}, "isBase64Encoded": False,
            "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "127.0.0.1", "userAgent": "bench"},
                               "requestId": "r", "routeKey": f"GET {path}", "stage": "$default",
                               "accountId": "1", "apiId": "local", "domainName": "localhost",
                               "domainPrefix": "localhost", "time": "", "timeEpoch": 0}}


def in_process_us(module: str, path: str, n: int) -> float:
    code = (f"import sys, time, json; sys.path.insert(0, {str(HERE / 'functions')!r})\n"
            f"from {module} import handler\n"
            "class C:\n aws_request_id='x'; function_name='f'; memory_limit_in_mb='512'\n"
            " def get_remaining_time_in_millis(self): return 10000\n"
            f"ev = json.loads({json.dumps(json.dumps(http_event(path)))}); c = C()\n"
            "for _ in range(200): handler(ev, c)\n"
            "ts = []\n"
            f"for _ in range({n}):\n t = time.perf_counter(); handler(ev, c); "
            "ts.append(time.perf_counter() - t)\n"
            "ts.sort(); print(ts[len(ts)//2] * 1e6)\n")
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def through_runtime_us(function: str, path: str, n: int) -> float:
    tpl = load_template(TEMPLATE)

    async def go() -> float:
        pool = FunctionPool(tpl.functions[function], tpl, {}, lambda _line: None)
        event = http_event(path)
        for _ in range(200):
            await pool.invoke(event)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            await pool.invoke(event)
            times.append(time.perf_counter() - t)
        await pool.close()
        times.sort()
        return times[len(times) // 2] * 1e6

    return asyncio.run(go())


# --- 3. cold starts ----------------------------------------------------------------------


def cold_starts(function: str, path: str, snapstart: bool, runs: int) -> dict[str, float]:
    from localcloud.coldstart import samples

    tpl = load_template(TEMPLATE)
    stats = asyncio.run(samples(tpl, tpl.functions[function], {}, snapstart, runs))
    return {"init_ms": stats["init_p50_ms"], "first_response_ms": stats["first_p50_ms"]}


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--sls-dir", type=Path, default=None,
                        help="folder with serverless@3 + serverless-offline@13 installed")
    parser.add_argument("--only", choices=["throughput", "overhead", "cold"], default=None)
    args = parser.parse_args()
    if args.only in (None, "throughput") and shutil.which("wrk") is None:
        parser.exit(2, "runtime_bench: the throughput benchmark needs wrk, which this machine "
                       "lacks: install Debian's package (`sudo apt-get install wrk`), or run "
                       "`--only overhead` / `--only cold`\n")
    out_dir = ROOT / "loadtests/results"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()},
                               "date": time.strftime("%Y-%m-%d %H:%M")}
    if args.only in (None, "throughput"):
        d, c = args.duration, args.connections
        tp: dict[str, Any] = {"edu": bench_edu(d, c, out_dir),
                              "uvicorn_1": bench_uvicorn(1, d, c),
                              "uvicorn_2": bench_uvicorn(2, d, c),
                              "hop_floor": bench_hop_floor(d, c)}
        if args.sls_dir:
            tp["serverless_offline"] = bench_serverless_offline(args.sls_dir, d, c, out_dir)
        results["throughput"] = tp
        print(f"\n### Throughput (wrk -t2 -c{c} -d{d}s, after a 3 s warm-up)\n")
        print("| server | bare req/s | bare p50 / p99 ms | FastAPI req/s | FastAPI p50 / p99 ms "
              "| errors |")
        print("|---|---|---|---|---|---|")
        for name, r in tp.items():
            print(f"| {name} | {r['bare']['rps']:.0f} | {r['bare']['p50_ms']:.2f} / "
                  f"{r['bare']['p99_ms']:.2f} | {r['fastapi']['rps']:.0f} | "
                  f"{r['fastapi']['p50_ms']:.2f} / {r['fastapi']['p99_ms']:.2f} | "
                  f"{r['bare']['errors'] + r['fastapi']['errors']:.0f} |")
        for base in ("uvicorn_1", "uvicorn_2", "hop_floor", "serverless_offline"):
            if base in tp:
                bare = tp["edu"]["bare"]["rps"] / tp[base]["bare"]["rps"]
                fast = tp["edu"]["fastapi"]["rps"] / tp[base]["fastapi"]["rps"]
                print(f"edu / {base}: bare {bare:.2f}x, FastAPI {fast:.2f}x")
        floor = {n: tp["hop_floor"][n]["rps"] / tp["uvicorn_1"][n]["rps"] for n in PATHS}
        print(f"hop_floor / uvicorn_1 (the most a process hop allows): bare {floor['bare']:.2f}x, "
              f"FastAPI {floor['fastapi']:.2f}x")
    if args.only in (None, "overhead"):
        n = 3000
        ov = {"bare": {"in_process_us": in_process_us("bare", "/bare", n),
                       "runtime_us": through_runtime_us("BareFunction", "/bare", n)},
              "fastapi": {"in_process_us": in_process_us("fastapi_app", "/fastapi", n),
                          "runtime_us": through_runtime_us("FastApiFunction", "/fastapi", n)}}
        results["warm_overhead"] = ov
        print("\n### Warm invoke (median of 3000 sequential invocations)\n")
        print("| function | in-process us | through a warm worker us | overhead us |")
        print("|---|---|---|---|")
        for name, r in ov.items():
            print(f"| {name} | {r['in_process_us']:.1f} | {r['runtime_us']:.1f} | "
                  f"{r['runtime_us'] - r['in_process_us']:.1f} |")
    if args.only in (None, "cold"):
        cs = {f"{fn} {'snapstart' if snap else 'normal'}": cold_starts(fn, path, snap, 5)
              for fn, path in (("BareFunction", "/bare"), ("FastApiFunction", "/fastapi"))
              for snap in (False, True)}
        results["cold_start"] = cs
        print("\n### Cold start (median of 5)\n")
        print("| function | Init/Restore Duration ms | first response ms |")
        print("|---|---|---|")
        for name, r in cs.items():
            print(f"| {name} | {r['init_ms']:.1f} | {r['first_response_ms']:.1f} |")
    path = out_dir / f"runtime-bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
