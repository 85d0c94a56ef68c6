"""How fast the running stack's notifications consumer drains a burst: N `user.created`
events put on the event bus at once (each becomes a welcome email: idempotency record,
contact lookup, SES send — the work an enrollment's email costs too), then the time until
the notifications queue is empty. Against a running stack (`edu up`); start it with
EDU_SQS_POLLERS=1 to compare one batch at a time with the default.

    .venv/bin/python loadtests/bench/queue_drain.py [--n 600] [--aws http://127.0.0.1:4566]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

import boto3

BUS = "edu-platform-events"
QUEUES = ("edu-platform-notifications",)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--aws", default="http://127.0.0.1:4566")
    args = parser.parse_args()
    client = dict(endpoint_url=args.aws, region_name="us-east-1", aws_access_key_id="local",
                  aws_secret_access_key="local")
    events, sqs = boto3.client("events", **client), boto3.client("sqs", **client)
    urls = [sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in QUEUES]

    def waiting() -> int:
        total = 0
        for url in urls:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            total += sum(int(v) for v in attrs["Attributes"].values())
        return total

    started = time.monotonic()
    for start in range(0, args.n, 10):
        entries = []
        for i in range(start, min(start + 10, args.n)):
            user = str(uuid.uuid4())
            envelope = {"id": str(uuid.uuid4()), "type": "user.created", "source": "edu.bench",
                        "occurred_at": "2026-01-01T00:00:00.000Z", "version": 1,
                        "data": {"user_id": user, "email": f"drain-{i}-{user[:8]}@example.com",
                                 "full_name": f"Drain {i}", "role": "student",
                                 "is_verified": False}}
            entries.append({"Source": "edu.bench", "DetailType": "user.created",
                            "Detail": json.dumps(envelope), "EventBusName": BUS})
        events.put_events(Entries=entries)
    sent = time.monotonic() - started
    peak = waiting()
    while (left := waiting()) > 0:
        time.sleep(0.5)
    drained = time.monotonic() - started
    print(f"{args.n} events put in {sent:.1f} s; {peak} messages waiting after the burst; "
          f"queue empty after {drained:.1f} s ({args.n / drained:.0f} events/s; "
          f"{left} left)")


if __name__ == "__main__":
    main()
