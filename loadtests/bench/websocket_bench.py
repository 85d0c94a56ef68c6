"""The local runtime's WebSocket API under one room of many clients: AWS's chat sample shape
(tests/fixtures/websocket_chat: connections in DynamoDB, a message fanned out by one function
posting to every connection through the @connections API), served by `edu local start-api`
against the local AWS endpoint. Not a test: prints numbers for docs/benchmarks.md.

    .venv/bin/python loadtests/bench/websocket_bench.py [--connections 1000] [--messages 5]

Reports the connect rate (each connection runs the $connect authorizer and function), one
message's fan-out (from its send until each client has it: p50, p99, all), and the runtime
process's memory per open connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from localcloud.aws import bootstrap  # noqa: E402
from localcloud.backing import aws_endpoint_healthy  # noqa: E402
from localcloud.procs import free_port, port_open, wait_until  # noqa: E402
from localcloud.template import load_template  # noqa: E402

CHAT = ROOT / "tests/fixtures/websocket_chat/template.yaml"


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


async def open_all(url: str, count: int, at_once: int) -> list[ClientConnection]:
    gate = asyncio.Semaphore(at_once)

    async def one(n: int) -> ClientConnection:
        async with gate:
            return await connect(f"{url}?token=let-me-in&name=c{n}", open_timeout=60,
                                 max_queue=None)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def fan_out(clients: list[ClientConnection], tag: str) -> list[float]:
    """Seconds from the send until each client received the message."""
    started = time.perf_counter()

    async def arrival(client: ClientConnection) -> float:
        while (await asyncio.wait_for(client.recv(), timeout=120)) != tag:
            pass
        return time.perf_counter() - started

    waiting = [asyncio.create_task(arrival(c)) for c in clients]
    await clients[0].send(json.dumps({"action": "sendmessage", "data": tag}))
    return list(await asyncio.gather(*waiting))


async def measure(url: str, runtime_pid: int, count: int, messages: int,
                  at_once: int) -> dict[str, float]:
    before = rss_mib(runtime_pid)
    started = time.perf_counter()
    clients = await open_all(url, count, at_once)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(1)
    after = rss_mib(runtime_pid)
    await fan_out(clients, "warm-up")  # the fan-out function's worker is warm from here
    runs = [sorted(await fan_out(clients, f"m{n}")) for n in range(messages)]
    for client in clients:
        await client.close()
    p50 = statistics.median(r[len(r) // 2] for r in runs)
    p99 = statistics.median(r[min(len(r) - 1, int(len(r) * 0.99))] for r in runs)
    last = statistics.median(r[-1] for r in runs)
    return {"connections": count, "connect_per_s": count / connect_s,
            "fanout_p50_ms": p50 * 1000, "fanout_p99_ms": p99 * 1000,
            "fanout_all_ms": last * 1000,
            "kib_per_connection": (after - before) * 1024 / count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--at-once", type=int, default=50, help="connects in flight")
    args = parser.parse_args()
    aws_port, api_port, lambda_port, ws_port = (free_port() for _ in range(4))
    aws = f"http://127.0.0.1:{aws_port}"
    moto = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-p",
                             str(aws_port)], cwd=ROOT / "infra", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    runtime = None
    try:
        wait_until(lambda: aws_endpoint_healthy(aws, 0.5), timeout=30, what="moto")
        bootstrap(load_template(CHAT, endpoint=aws), aws)
        env = dict(os.environ, AWS_ENDPOINT_URL=aws, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
        runtime = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t", str(CHAT),
             "--port", str(api_port), "--lambda-port", str(lambda_port), "--ws-port",
             str(ws_port), "--no-watch", "--no-triggers"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(ws_port), timeout=60, what="the runtime")
        result = asyncio.run(measure(f"ws://127.0.0.1:{ws_port}/Prod", runtime.pid,
                                     args.connections, args.messages, args.at_once))
    finally:
        for proc in (runtime, moto):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"{result['connections']} connections in one room (median of {args.messages} "
          "messages)")
    print(f"connect rate            {result['connect_per_s']:8.0f} /s  ($connect authorizer "
          "+ function each)")
    print(f"fan-out p50             {result['fanout_p50_ms']:8.0f} ms")
    print(f"fan-out p99             {result['fanout_p99_ms']:8.0f} ms")
    print(f"fan-out to all          {result['fanout_all_ms']:8.0f} ms")
    print(f"runtime memory / conn   {result['kib_per_connection']:8.1f} KiB")


if __name__ == "__main__":
    main()
