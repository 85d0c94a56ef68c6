"""The local AWS endpoint under concurrent load, same run, same data.

    .venv/bin/python loadtests/bench/moto_bench.py [--seconds 10] [--threads 16]
    .venv/bin/python loadtests/bench/moto_bench.py --scenario events
    .venv/bin/python loadtests/bench/moto_bench.py --scenario writes
    .venv/bin/python loadtests/bench/moto_bench.py --scenario email

dynamodb: moto's own werkzeug server against `localcloud.moto_server`'s pooled (cheroot)
server. Each server gets a table with 20K items; client threads (one boto3 client each, like
function workers) loop GetItem / Query / PutItem for the given time.
events: the platform's event path with a backlog, moto's SQS/EventBridge as shipped against
`localcloud.moto_server`'s fixes: an event bus whose rule feeds four queues (like ours), each
holding 300 waiting messages; threads loop PutEvents / ReceiveMessage + DeleteMessageBatch /
GetQueueAttributes.
writes: conditional writes as the write functions send them (a progress transaction, a
create-if-absent put, a conditional update), moto parsing every condition and update
expression against the server remembering parsed ones.
email: SendEmail, as the notifications consumer sends one per event, through Flask against
dispatched directly.
Prints req/s, latency percentiles and server CPU per request.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

from localcloud.backing import aws_endpoint_healthy
from localcloud.coldstart import percentile
from localcloud.procs import free_port, wait_until

ITEMS = 20_000


def client(url: str, service: str = "dynamodb") -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1},
                                      max_pool_connections=4))


EVENT_CONFIGS = {  # name -> environment of the server
    "queue fixes off (moto as shipped)": {"EDU_MOTO_QUEUE_FIXES": "0",
                                          "EDU_MOTO_DIRECT_DISPATCH": "0",
                                          "EDU_MOTO_CHEAP_IDS": "0"},
    "queue fixes without the backlog receive/delete": {"EDU_MOTO_SQS_BACKLOG": "0",
                                                       "EDU_MOTO_DIRECT_DISPATCH": "0",
                                                       "EDU_MOTO_CHEAP_IDS": "0"},
    "queue fixes on, through Flask": {"EDU_MOTO_DIRECT_DISPATCH": "0",
                                      "EDU_MOTO_CHEAP_IDS": "0"},
    "queue fixes on, moto's id generators": {"EDU_MOTO_CHEAP_IDS": "0"},
    "queue fixes on (default)": {},
}
WRITE_CONFIGS = {  # name -> environment of the server
    "moto's expression parsing": {"EDU_MOTO_EXPRESSION_CACHE": "0"},
    "parsed expressions remembered (default)": {},
}
EMAIL_CONFIGS = {  # name -> environment of the server
    "SES through Flask": {"EDU_MOTO_DIRECT_DISPATCH": "0"},
    "SES dispatched directly (default)": {},
}
BACKLOG = int(os.environ.get("EDU_BENCH_BACKLOG", "300"))  # waiting messages per queue
CONFIGS = {  # name -> environment of the server
    "moto as shipped (werkzeug)": {"EDU_MOTO_SERVER": "werkzeug",
                                   "EDU_MOTO_DISPATCH_CACHE": "0",
                                   "EDU_MOTO_DIRECT_JSON": "0"},
    "pooled server": {"EDU_MOTO_SERVER": "pooled", "EDU_MOTO_DISPATCH_CACHE": "0",
                      "EDU_MOTO_DIRECT_JSON": "0", "EDU_MOTO_DIRECT_DISPATCH": "0"},
    "pooled + dispatch cache, no call ledger": {"EDU_MOTO_SERVER": "pooled",
                                                "EDU_MOTO_LEDGER": "0"},
    "pooled + dispatch cache, moto's serializer for DynamoDB": {
        "EDU_MOTO_SERVER": "pooled", "EDU_MOTO_DIRECT_JSON": "0",
        "EDU_MOTO_DIRECT_DISPATCH": "0"},
    "pooled + dispatch cache + direct JSON, through Flask": {
        "EDU_MOTO_SERVER": "pooled", "EDU_MOTO_DIRECT_DISPATCH": "0"},
    "pooled + dispatch cache (default)": {"EDU_MOTO_SERVER": "pooled"},
}


def start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **{**CONFIGS, **EVENT_CONFIGS, **WRITE_CONFIGS, **EMAIL_CONFIGS}[kind]}
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


def load_queues(url: str) -> list[str]:
    sqs, events = client(url, "sqs"), client(url, "events")
    events.create_event_bus(Name="bench")
    events.put_rule(Name="all", EventBusName="bench",
                    EventPattern='{"source": [{"prefix": "edu."}]}')
    urls, targets = [], []
    for n in range(4):
        dlq = sqs.create_queue(QueueName=f"q{n}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
                  "maxReceiveCount": "5"}
        queue = sqs.create_queue(QueueName=f"q{n}", Attributes={
            "RedrivePolicy": json.dumps(policy)})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        targets.append({"Id": f"t{n}", "Arn": arn["Attributes"]["QueueArn"]})
        for start in range(0, BACKLOG, 10):
            sqs.send_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"n": start + i})} for i in range(10)])
        urls.append(queue)
    events.put_targets(Rule="all", EventBusName="bench", Targets=targets)
    return urls


def event_op(url: str, queues: list[str]) -> Any:
    sqs, events = client(url, "sqs"), client(url, "events")

    def op(i: int) -> None:
        if i % 3 == 0:
            events.put_events(Entries=[{"EventBusName": "bench", "Source": "edu.bench",
                                        "DetailType": "enrollment.created",
                                        "Detail": json.dumps({"i": i})}])
        elif i % 3 == 1:
            queue = queues[i % len(queues)]
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                      AttributeNames=["All"]).get("Messages", [])
            if got:
                sqs.delete_message_batch(QueueUrl=queue, Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(got)])
        else:
            sqs.get_queue_attributes(QueueUrl=queues[i % len(queues)], AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return op


def dynamodb_op(url: str) -> Any:
    ddb = client(url)

    def op(i: int) -> None:
        user = f"USER#{i % (ITEMS // 10)}"
        if i % 3 == 0:
            ddb.get_item(TableName="bench", Key={"pk": {"S": user},
                                                 "sk": {"S": f"E#{(i % 2000) * 10}"}})
        elif i % 3 == 1:
            ddb.query(TableName="bench", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": user}})
        else:
            ddb.put_item(TableName="bench", Item={"pk": {"S": user}, "sk": {"S": f"W#{i}"}})
    return op


def write_op(url: str) -> Any:
    """The write functions' shapes: a progress transaction (conditional put, a counter
    update conditioned on the count read, an outbox put), a create-if-absent put, a
    conditional status update. Each client thread counts on its own enrollment item."""
    ddb = client(url)
    me = f"USER#w{uuid.uuid4().hex}"
    enrollment = {"pk": {"S": me}, "sk": {"S": "ENROLL#c1"}}
    ddb.put_item(TableName="bench", Item={**enrollment, "done": {"N": "0"}})
    done = [0]

    def op(i: int) -> None:
        if i % 3 == 0:
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "bench",
                         "Item": {"pk": {"S": me}, "sk": {"S": f"PROG#c1#{i}"},
                                  "completed": {"BOOL": True}},
                         "ConditionExpression": "attribute_not_exists (#0) OR #1 = :0",
                         "ExpressionAttributeNames": {"#0": "pk", "#1": "completed"},
                         "ExpressionAttributeValues": {":0": {"BOOL": False}}}},
                {"Update": {"TableName": "bench", "Key": enrollment,
                            "UpdateExpression": "SET #1 = :1",
                            "ConditionExpression": "attribute_exists (#0) AND #1 = :0",
                            "ExpressionAttributeNames": {"#0": "pk", "#1": "done"},
                            "ExpressionAttributeValues": {":0": {"N": str(done[0])},
                                                          ":1": {"N": str(done[0] + 1)}}}},
                {"Put": {"TableName": "bench",
                         "Item": {"pk": {"S": f"OUTBOX#{i % 4}"}, "sk": {"S": f"{me}#{i}"},
                                  "envelope": {"S": "{}"}}}}])
            done[0] += 1
        elif i % 3 == 1:
            ddb.put_item(TableName="bench", Item={"pk": {"S": me}, "sk": {"S": f"W#{i}"}},
                         ConditionExpression="attribute_not_exists (#0)",
                         ExpressionAttributeNames={"#0": "pk"})
        else:
            ddb.update_item(TableName="bench", Key=enrollment,
                            UpdateExpression="SET #1 = :1",
                            ConditionExpression="attribute_exists (#0)",
                            ExpressionAttributeNames={"#0": "pk", "#1": "status"},
                            ExpressionAttributeValues={":1": {"S": "active"}})
    return op


def email_op(url: str) -> Any:
    ses = client(url, "ses")
    ses.verify_email_identity(EmailAddress="no-reply@example.com")

    def op(i: int) -> None:
        ses.send_email(Source="no-reply@example.com",
                       Destination={"ToAddresses": [f"student{i}@example.com"]},
                       Message={"Subject": {"Data": "Welcome to the course"},
                                "Body": {"Text": {"Data": f"Lesson {i} is done."},
                                         "Html": {"Data": f"<p>Lesson {i} is done.</p>"}}})
    return op


def hammer(url: str, seconds: float, threads: int, pid: int | None = None,
           make_op: Any = None) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        op, mine, i = (make_op or dynamodb_op)(url), [], n
        while time.monotonic() < deadline:
            i += threads
            started = time.perf_counter()
            try:
                op(i)
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
    parser.add_argument("--scenario", choices=["dynamodb", "events", "writes", "email"],
                        default="dynamodb")
    args = parser.parse_args()
    configs = {"dynamodb": CONFIGS, "events": EVENT_CONFIGS, "writes": WRITE_CONFIGS,
               "email": EMAIL_CONFIGS}[args.scenario]
    results = {}
    for kind in configs:
        proc, url = start(kind)
        try:
            if args.scenario == "dynamodb":
                load_table(url)
                make_op = None
            elif args.scenario == "writes":
                load_table(url)
                make_op = write_op
            elif args.scenario == "email":
                make_op = email_op
            else:
                make_op = functools.partial(event_op, queues=load_queues(url))
            hammer(url, 2, args.threads, make_op=make_op)  # warm-up
            results[kind] = hammer(url, args.seconds, args.threads, proc.pid, make_op)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        print(kind, results[kind], flush=True)
    base_name = next(iter(configs))
    base = results[base_name]
    for kind, r in results.items():
        print(f"{kind}: {r['req_s'] / max(base['req_s'], 0.1):.2f}x req/s, "
              f"{base['server_cpu_ms_per_req'] / max(r['server_cpu_ms_per_req'], 1e-6):.2f}x "
              f"less server CPU per request than {base_name}")


if __name__ == "__main__":
    main()
