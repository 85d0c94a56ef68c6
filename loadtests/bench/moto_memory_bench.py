"""How the local AWS endpoint's memory grows with the calls a long load run makes, moto's
own model tracking against `localcloud.moto_memory`'s bounds, same run.

    .venv/bin/python loadtests/bench/moto_memory_bench.py [--cycles 16000] [--records 1000]

Each server gets a queue and a streamed table; a cycle is what an event costs the endpoint:
SendMessage + ReceiveMessage + DeleteMessage, a PutItem over 100 keys and a GetRecords poll
of the stream. Prints the server's RSS growth after the cycles (stream records kept per
shard: `--records`, so their bounded memory does not hide a leak).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from localcloud.backing import aws_endpoint_healthy  # noqa: E402
from localcloud.procs import free_port, wait_until  # noqa: E402


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def growth(cycles: int, records: int, track_models: bool) -> float:
    port = free_port()
    env = dict(os.environ, EDU_MOTO_STREAM_RECORDS=str(records),
               EDU_MOTO_TRACK_MODELS="1" if track_models else "0")
    server = subprocess.Popen([sys.executable, "-m", "localcloud.moto_server", "-p", str(port)],
                              cwd=ROOT / "infra", env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what="moto")
        kw = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "t",
              "aws_secret_access_key": "t"}
        sqs, ddb = boto3.client("sqs", **kw), boto3.client("dynamodb", **kw)
        streams = boto3.client("dynamodbstreams", **kw)
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         StreamSpecification={"StreamEnabled": True,
                                              "StreamViewType": "NEW_AND_OLD_IMAGES"})
        arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="LATEST")["ShardIterator"]
        item = {"body": {"S": "x" * 500}}
        for n in range(300):  # warm up: the table's keys exist
            ddb.put_item(TableName="t", Item={"id": {"S": str(n % 100)}, **item})
        time.sleep(1)
        before = rss_mib(server.pid)
        for n in range(cycles):
            sqs.send_message(QueueUrl=queue, MessageBody="y" * 1000)
            message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            ddb.put_item(TableName="t", Item={"id": {"S": str(n % 100)}, **item})
            iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
        time.sleep(1)
        return rss_mib(server.pid) - before
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=16000)
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()
    tracked = growth(args.cycles, args.records, track_models=True)
    bounded = growth(args.cycles, args.records, track_models=False)
    print(f"RSS growth after {args.cycles} cycles: moto's model tracking {tracked:.1f} MiB "
          f"({tracked * 1024 / args.cycles:.2f} KiB/cycle), bounded {bounded:.1f} MiB "
          f"({bounded * 1024 / args.cycles:.2f} KiB/cycle): {tracked / bounded:.1f}x less")


if __name__ == "__main__":
    main()
