"""The local AWS endpoint under concurrent DynamoDB load: moto's own werkzeug server against
`localcloud.moto_server`'s pooled (cheroot) server, same run, same data.

    .venv/bin/python loadtests/bench/moto_bench.py [--seconds 10] [--threads 16]

Each server gets a table with 20K items; client threads (one boto3 client each, like
function workers) loop GetItem / Query / PutItem for the given time. Prints req/s and
latency percentiles per server and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from localcloud.coldstart import percentile
from localcloud.procs import free_port, wait_until
from localcloud.services import aws_endpoint_healthy

ITEMS = 20_000


def client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1},
                                      max_pool_connections=4))


CONFIGS = {  # name -> environment of the server
    "moto as shipped (werkzeug)": {"EDU_MOTO_SERVER": "werkzeug",
                                   "EDU_MOTO_DISPATCH_CACHE": "0"},
    "pooled server": {"EDU_MOTO_SERVER": "pooled", "EDU_MOTO_DISPATCH_CACHE": "0"},
    "pooled + dispatch cache (default)": {"EDU_MOTO_SERVER": "pooled"},
}


def start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **CONFIGS[kind]}
    proc = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-H",
                             "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what=kind, proc=proc)
    return proc, url


def load_table(url: str) -> None:
    ddb = client(url)
    ddb.create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={"bench": [
            {"PutRequest": {"Item": {"pk": {"S": f"USER#{i // 10}"}, "sk": {"S": f"E#{i}"},
                                     "v": {"N": str(i)}}}} for i in range(start, start + 25)]})


def hammer(url: str, seconds: float, threads: int, pid: int | None = None
           ) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        ddb, mine, i = client(url), [], n
        while time.monotonic() < deadline:
            i += threads
            user = f"USER#{i % (ITEMS // 10)}"
            started = time.perf_counter()
            try:
                if i % 3 == 0:
                    ddb.get_item(TableName="bench", Key={"pk": {"S": user},
                                                         "sk": {"S": f"E#{(i % 2000) * 10}"}})
                elif i % 3 == 1:
                    ddb.query(TableName="bench", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": user}})
                else:
                    ddb.put_item(TableName="bench", Item={"pk": {"S": user},
                                                          "sk": {"S": f"W#{i}"}})
                mine.append(time.perf_counter() - started)
            except Exception:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    import psutil

    server = psutil.Process(pid) if pid else None
    cpu_before = sum(server.cpu_times()[:2]) if server else 0.0
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    cpu = (sum(server.cpu_times()[:2]) - cpu_before) if server else 0.0

    def pct(q: float) -> float:
        return round(percentile(latencies, q) * 1000, 2)

    return {"req_s": round(len(latencies) / seconds, 1), "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "errors": errors[0],
            # what the client cannot hide: server CPU per request (the client shares the
            # two cores, so req/s here is partly the client's limit)
            "server_cpu_ms_per_req": round(cpu * 1000 / max(len(latencies), 1), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    results = {}
    for kind in CONFIGS:
        proc, url = start(kind)
        try:
            load_table(url)
            hammer(url, 2, args.threads)  # warm-up
            results[kind] = hammer(url, args.seconds, args.threads, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        print(kind, results[kind], flush=True)
    base = results["moto as shipped (werkzeug)"]
    for kind, r in results.items():
        print(f"{kind}: {r['req_s'] / max(base['req_s'], 0.1):.2f}x req/s, "
              f"{base['server_cpu_ms_per_req'] / max(r['server_cpu_ms_per_req'], 1e-6):.2f}x "
              "less server CPU per request than moto as shipped")


if __name__ == "__main__":
    main()
