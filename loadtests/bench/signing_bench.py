"""The SDK's CPU per call to the local AWS endpoint, SigV4 against placeholder signatures
(`edu.adapters.local_signing`), same run, same server, alternating rounds.

    .venv/bin/python loadtests/bench/signing_bench.py [--calls 1000] [--rounds 12]

Starts `localcloud.moto_server` with a table, then for each round and each way of signing
builds a client as `edu.adapters.registry.Adapters` does and loops the write functions'
calls (GetItem, Query, TransactWriteItems, PutEvents) one at a time, measuring the
process's CPU (the client's side: serialising, signing, HTTP, parsing). Prints the median
per call and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

from edu.adapters.local_signing import use_placeholder_signature
from localcloud.backing import aws_endpoint_healthy
from localcloud.procs import free_port, wait_until

TABLE, BUS = "bench", "bench"


def client(url: str, service: str, placeholder: bool) -> Any:
    made = boto3.client(service, endpoint_url=url, region_name="us-east-1",  # type: ignore[call-overload]
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(connect_timeout=2, read_timeout=3,
                                      retries={"max_attempts": 2, "mode": "standard"}))
    if placeholder:
        use_placeholder_signature(made)
    return made


def prepare(url: str) -> None:
    ddb = client(url, "dynamodb", False)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    client(url, "events", False).create_event_bus(Name=BUS)


def round_cpu_ms(url: str, placeholder: bool, calls: int) -> float:
    ddb, events = client(url, "dynamodb", placeholder), client(url, "events", placeholder)
    user = f"USER#{uuid.uuid4().hex}"
    ops = [
        lambda i: ddb.get_item(TableName=TABLE, Key={"pk": {"S": user}, "sk": {"S": "E#1"}},
                               ConsistentRead=True),
        lambda i: ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": {"S": user}}, Limit=5),
        lambda i: ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": user}, "sk": {"S": f"P#{i}"},
                                                  "done": {"BOOL": True}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "OUTBOX#0"},
                                                  "sk": {"S": f"{user}#{i}"},
                                                  "envelope": {"S": "{}"}}}}]),
        lambda i: events.put_events(Entries=[{"EventBusName": BUS, "Source": "edu.bench",
                                              "DetailType": "lesson.completed",
                                              "Detail": json.dumps({"i": i})}]),
    ]
    for i in range(len(ops)):  # connections and caches warm before measuring
        ops[i](calls + i)
    start = time.process_time()
    for i in range(calls):
        ops[i % len(ops)](i)
    return (time.process_time() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-H",
                               "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what="moto",
                   proc=server)
        prepare(url)
        results: dict[str, list[float]] = {"SigV4": [], "placeholder": []}
        for _ in range(args.rounds):
            for name in results:
                results[name].append(round_cpu_ms(url, name == "placeholder", args.calls))
        medians = {name: statistics.median(values) for name, values in results.items()}
        for name, values in results.items():
            print(f"{name:12} client CPU per call: median {medians[name]:.3f} ms "
                  f"(rounds {', '.join(f'{v:.3f}' for v in values)})")
        # Each round's pair ran back to back: the median of their ratios ignores the drift
        # of a noisy machine between rounds.
        paired = statistics.median(p / s for p, s in zip(results["placeholder"],
                                                         results["SigV4"], strict=True))
        print(f"placeholder / SigV4: {paired:.2f}x CPU per call (median of the rounds' "
              f"ratios; medians' ratio {medians['placeholder'] / medians['SigV4']:.2f}x)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
