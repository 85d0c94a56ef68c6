"""The local runtime's WebSocket API under one room of many clients: AWS's chat sample shape
(tests/fixtures/websocket_chat: connections in DynamoDB, a message fanned out by one function
posting to every connection through the @connections API), served by `edu local start-api`
against the local AWS endpoint. Not a test: prints numbers for docs/benchmarks.md.

    .venv/bin/python loadtests/bench/websocket_bench.py [--connections 1000] [--messages 5]
        [--sls-dir DIR]

With --sls-dir (a folder where `npm install serverless@3 serverless-offline@13` ran), the same
handlers also run under serverless-offline's WebSocket emulation, after edu's, same machine,
same endpoint, and both are printed side by side.

Reports the connect rate (each connection runs the $connect authorizer and function), one
message's fan-out (from its send until each client has it: p50, p99, all), and the runtime
process's memory per open connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "infra"))

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

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
            for attempt in range(5):  # a busy server may shed a handshake (429, 500)
                try:
                    return await connect(f"{url}?token=let-me-in&name=c{n}",
                                         open_timeout=60, max_queue=None)
                except InvalidStatus:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            raise AssertionError("unreachable")

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


def sls_runtime(sls_dir: Path, env: dict[str, str], ws_port: int) -> subprocess.Popen[bytes]:
    """serverless-offline serving the chat sample from a scratch service folder."""
    work = Path(tempfile.mkdtemp(prefix="sls-chat-"))
    shutil.copy(HERE / "sls_websocket" / "serverless.yml", work)
    shutil.copy(CHAT.parent / "src" / "chat.py", work)
    (work / "node_modules").symlink_to(sls_dir.resolve() / "node_modules")
    env = dict(env, EDU_SLS_WS_PORT=str(ws_port), EDU_SLS_HTTP_PORT=str(free_port()),
               EDU_SLS_LAMBDA_PORT=str(free_port()),
               CONNECTIONS_ENDPOINT=f"http://127.0.0.1:{ws_port}",
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")  # boto3's python
    return subprocess.Popen([str(sls_dir / "node_modules" / ".bin" / "serverless"), "offline",
                             "start"], cwd=work, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def run(name: str, proc: subprocess.Popen[bytes], url: str, ws_port: int,
        args: argparse.Namespace) -> dict[str, float] | str:
    """The server's figures, or what stopped it from serving the room."""
    try:
        wait_until(lambda: port_open(ws_port), timeout=90, what=name)
        return asyncio.run(measure(url, proc.pid, args.connections, args.messages,
                                   args.at_once))
    except (TimeoutError, InvalidStatus, OSError) as exc:
        return (f"failed: {type(exc).__name__} {exc}"[:120] if str(exc)
                else f"failed: {type(exc).__name__} (a message took over 120 s to reach "
                "every client)")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--at-once", type=int, default=50, help="connects in flight")
    parser.add_argument("--sls-dir", type=Path, default=None,
                        help="where serverless@3 and serverless-offline@13 are installed")
    args = parser.parse_args()
    aws_port, api_port, lambda_port, ws_port = (free_port() for _ in range(4))
    aws = f"http://127.0.0.1:{aws_port}"
    moto = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-p",
                             str(aws_port)], cwd=ROOT / "infra", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    results: dict[str, dict[str, float] | str] = {}
    try:
        wait_until(lambda: aws_endpoint_healthy(aws, 0.5), timeout=30, what="moto")
        template = load_template(CHAT, endpoint=aws)
        bootstrap(template, aws)
        env = dict(os.environ, AWS_ENDPOINT_URL=aws, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                   TABLE_NAME=template.resources["ConnectionsTable"].physical_name)
        edu = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t", str(CHAT),
             "--port", str(api_port), "--lambda-port", str(lambda_port), "--ws-port",
             str(ws_port), "--no-watch", "--no-triggers"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results["edu local start-api"] = run("edu", edu, f"ws://127.0.0.1:{ws_port}/Prod",
                                             ws_port, args)
        if args.sls_dir is not None:
            sls_port = free_port()
            results["serverless-offline 13"] = run(
                "serverless-offline", sls_runtime(args.sls_dir, env, sls_port),
                f"ws://127.0.0.1:{sls_port}", sls_port, args)
    finally:
        moto.send_signal(signal.SIGINT)
        moto.wait(timeout=20)
    print(f"{args.connections} connections in one room (median of {args.messages} messages; "
          "connect = $connect authorizer + function)")
    print(f"{'server':24} {'connect/s':>10} {'fan-out p50 ms':>15} {'p99 ms':>8} "
          f"{'all ms':>8} {'KiB/conn':>9}")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"{name:24} {r}")
            continue
        print(f"{name:24} {r['connect_per_s']:10.0f} {r['fanout_p50_ms']:15.0f} "
              f"{r['fanout_p99_ms']:8.0f} {r['fanout_all_ms']:8.0f} "
              f"{r['kib_per_connection']:9.1f}")


if __name__ == "__main__":
    main()
