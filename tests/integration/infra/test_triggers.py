"""Event sources end to end: queue, bucket, bus and topic deliveries reach functions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from localcloud.template import load_template
from tests.integration.infra.conftest import FIXTURE, RunningRuntime

STACK = "edu-platform"


def aws(runtime: RunningRuntime, service: str) -> Any:
    return boto3.client(service, endpoint_url=runtime.aws_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def queue_url(runtime: RunningRuntime, name: str) -> str:
    return str(aws(runtime, "sqs").get_queue_url(QueueName=name)["QueueUrl"])


def wait_for_results(runtime: RunningRuntime, match: Callable[[dict[str, Any]], bool],
                     count: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
    """Reads the results queue until `count` matching reports arrived (others are kept)."""
    sqs = aws(runtime, "sqs")
    url = queue_url(runtime, f"{STACK}-ResultsQueue")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1, VisibilityTimeout=0
                                       ).get("Messages", []):
            report = json.loads(msg["Body"])
            if match(report):
                found.append(report)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert len(found) >= count, f"expected {count} deliveries, got {found}\n" + \
        runtime.log.read_text()[-3000:]
    return found


def test_sqs_mapping_batches_and_redrives_only_failed_messages_to_the_dlq(
        runtime: RunningRuntime) -> None:
    sqs = aws(runtime, "sqs")
    tag = uuid.uuid4().hex
    work = queue_url(runtime, f"{STACK}-WorkQueue")
    sqs.send_message_batch(QueueUrl=work, Entries=[
        {"Id": str(i), "MessageBody": json.dumps({"tag": tag, "n": i, "fail": i == 2})}
        for i in range(4)])
    reports = wait_for_results(
        runtime, lambda r: r.get("body", {}).get("tag") == tag, count=5)
    good = sorted(r["body"]["n"] for r in reports if not r["body"]["fail"])
    assert good == [0, 1, 3]  # each delivered exactly once: successes were deleted
    failed = [r for r in reports if r["body"]["fail"]]
    assert [r["receive_count"] for r in failed] == ["1", "2"]  # retried, then ...
    assert max(r["batch_size"] for r in reports) > 1  # batched, not one by one
    dlq = queue_url(runtime, f"{STACK}-WorkDLQ")
    deadline = time.monotonic() + 10
    moved: list[dict[str, Any]] = []
    while not moved and time.monotonic() < deadline:
        # ... after maxReceiveCount the queue's redrive policy moves it to the DLQ.
        moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
    assert moved and json.loads(moved[0]["Body"])["n"] == 2


def test_a_backlog_is_read_with_several_batches_at_once(runtime: RunningRuntime) -> None:
    """Like Lambda, a mapping whose batches come back full adds pollers (here up to the
    default five), so a slow consumer drains a backlog several batches at a time; every
    message is still delivered once."""
    sqs = aws(runtime, "sqs")
    tag = uuid.uuid4().hex
    backlog = queue_url(runtime, f"{STACK}-BacklogQueue")
    for start in range(0, 40, 10):
        sqs.send_message_batch(QueueUrl=backlog, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"tag": tag, "n": i, "hold": 0.5})}
            for i in range(start, start + 10)])
    reports = wait_for_results(
        runtime, lambda r: r.get("body", {}).get("tag") == tag, count=40, timeout=40)
    assert sorted(r["body"]["n"] for r in reports) == list(range(40))
    batches = {r["request_id"]: (r["started"], r["ended"]) for r in reports}
    assert len(batches) < 40  # batched
    # The most batches held at one moment: one poller would make that 1.
    overlap = max(sum(1 for s, e in batches.values() if s <= at < e)
                  for at, _ in batches.values())
    assert overlap >= 2, batches


def test_s3_upload_invokes_the_function_with_the_s3_event(runtime: RunningRuntime) -> None:
    s3 = aws(runtime, "s3")
    bucket = f"{STACK}-things-123456789012"
    key = f"in/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello")
    s3.put_object(Bucket=bucket, Key=f"other/{uuid.uuid4().hex}", Body=b"filtered")
    (report,) = wait_for_results(runtime, lambda r: r["function"] == "S3ConsumerFunction"
                                 and key.split("/")[1] in json.dumps(r["event"]))
    record = report["event"]["Records"][0]
    assert unquote_plus(record["s3"]["object"]["key"]) == key
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["size"] == 5


def test_failing_async_invocation_is_retried_then_parked_in_the_dlq(
        runtime: RunningRuntime) -> None:
    s3, sqs = aws(runtime, "s3"), aws(runtime, "sqs")
    key = f"fail/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=f"{STACK}-things-123456789012", Key=key, Body=b"x")
    dlq = queue_url(runtime, "edu-local-AsyncFailFunction-Upload-dlq")
    deadline = time.monotonic() + 20
    parked: list[dict[str, Any]] = []
    while not parked and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1, VisibilityTimeout=0
                                   ).get("Messages", [])
        parked = [m for m in msgs if key.split("/")[1] in m["Body"]]
    assert parked, runtime.log.read_text()[-3000:]

    def attempts() -> int:
        return runtime.log.read_text().count("[AsyncFailFunction/Upload (S3)] async invoke "
                                             "failed")

    deadline = time.monotonic() + 5  # the runtime writes its log in small batches
    while attempts() < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert attempts() == 3


def test_eventbridge_rule_pattern_selects_events(runtime: RunningRuntime) -> None:
    events = aws(runtime, "events")
    tag = uuid.uuid4().hex
    events.put_events(Entries=[
        {"Source": "edu.test", "DetailType": "t", "EventBusName": "runtime-test-bus",
         "Detail": json.dumps({"kind": "good-one", "tag": tag})},
        {"Source": "edu.test", "DetailType": "t", "EventBusName": "runtime-test-bus",
         "Detail": json.dumps({"kind": "bad", "tag": tag})},
        {"Source": "other", "DetailType": "t", "EventBusName": "runtime-test-bus",
         "Detail": json.dumps({"kind": "good-two", "tag": tag})}])
    reports = wait_for_results(runtime, lambda r: r["function"] == "BusConsumerFunction"
                               and r["event"].get("detail", {}).get("tag") == tag)
    time.sleep(2)  # nothing else for this tag may follow
    late = wait_for_results(runtime, lambda r: r["function"] == "BusConsumerFunction"
                            and r["event"].get("detail", {}).get("tag") == tag, count=0,
                            timeout=1)
    assert [r["event"]["detail"]["kind"] for r in reports + late] == ["good-one"]
    assert reports[0]["event"]["source"] == "edu.test"


def test_sns_topic_delivers_the_sns_event(runtime: RunningRuntime) -> None:
    sns = aws(runtime, "sns")
    arn = f"arn:aws:sns:us-east-1:123456789012:{STACK}-Topic"
    tag = uuid.uuid4().hex
    sns.publish(TopicArn=arn, Message=json.dumps({"tag": tag}), Subject="hi")
    (report,) = wait_for_results(runtime, lambda r: r["function"] == "TopicConsumerFunction"
                                 and tag in json.dumps(r["event"]))
    record = report["event"]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == arn and record["Sns"]["Subject"] == "hi"
    assert json.loads(record["Sns"]["Message"]) == {"tag": tag}


def test_lambda_invoke_api_sync_async_and_errors(runtime: RunningRuntime) -> None:
    lam = boto3.client("lambda", endpoint_url=runtime.lambda_api, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ok = lam.invoke(FunctionName="ContextFunction", Payload=b"{}")
    assert ok["StatusCode"] == 200 and "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["function_name"] == "ContextFunction"
    failed = lam.invoke(FunctionName="FailFunction", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorMessage"] == "boom"
    queued = lam.invoke(FunctionName="EchoFunction", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_metrics_and_report_count_invocations(runtime: RunningRuntime) -> None:
    import httpx

    httpx.get(f"{runtime.api}/items/1")
    text = httpx.get(f"{runtime.lambda_api}/metrics").text
    assert 'lambda_invocations_total{function="EchoFunction"}' in text
    assert "lambda_cold_starts_total" in text and "lambda_duration_seconds_bucket" in text
    report = httpx.get(f"{runtime.lambda_api}/_edu/report").json()
    assert report["EchoFunction"]["invocations"] >= 1
    assert report["EchoFunction"]["cold_starts"] >= 1


def test_fixture_template_has_every_trigger_type() -> None:
    kinds = {e.type for f in load_template(FIXTURE).functions.values() for e in f.events}
    assert {"SQS", "S3", "EventBridgeRule", "SNS", "HttpApi", "DynamoDB"} <= kinds


def test_dynamodb_stream_delivers_filtered_changes_in_order(runtime: RunningRuntime) -> None:
    ddb = aws(runtime, "dynamodb")
    table, tag = f"{STACK}-ChangesTable", uuid.uuid4().hex
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": f"{tag}-a"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-b"}, "blob": {"B": b"\x00\x01"}})
    reports = wait_for_results(runtime, lambda r: "record" in r and r["record"]["dynamodb"][
        "Keys"]["pk"]["S"].startswith(tag), count=3)
    records = [r["record"] for r in reports]
    # The filter keeps inserts and modifications: the REMOVE never reaches the function.
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", f"{tag}-a"), ("MODIFY", f"{tag}-a"), ("INSERT", f"{tag}-b")]
    assert records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert records[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert records[2]["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # base64, as Lambda
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)
    assert {r["eventSource"] for r in records} == {"aws:dynamodb"}
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert {r["eventSourceARN"] for r in records} == {stream}


def test_a_failing_stream_record_is_retried_then_described_in_the_on_failure_queue(
        runtime: RunningRuntime) -> None:
    ddb, sqs = aws(runtime, "dynamodb"), aws(runtime, "sqs")
    table, tag = f"{STACK}-ChangesTable", uuid.uuid4().hex
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-ok"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-bad"}, "fail": {"BOOL": True}})
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-behind"}})

    def mine(report: dict[str, Any]) -> bool:
        return "record" in report and report["record"]["dynamodb"]["Keys"]["pk"]["S"] \
            .startswith(tag)

    # One try and MaximumRetryAttempts (2) retries of the failing record, each from it:
    # the record before it is delivered once, the one behind it never.
    reports = wait_for_results(runtime, mine, count=4)
    keys = [r["record"]["dynamodb"]["Keys"]["pk"]["S"].removeprefix(tag) for r in reports]
    assert keys == ["-ok", "-bad", "-bad", "-bad"]
    dlq = queue_url(runtime, f"{STACK}-StreamDLQ")
    deadline, described = time.monotonic() + 15, []
    while not described and time.monotonic() < deadline:
        described = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
    assert described, runtime.log.read_text()[-3000:]
    info = json.loads(described[0]["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["batchSize"] == 2  # the failing record and the one behind
    assert info["DDBStreamBatchInfo"]["startSequenceNumber"] == \
        reports[1]["record"]["dynamodb"]["SequenceNumber"]
    # The mapping moved past them: a later change is delivered.
    ddb.put_item(TableName=table, Item={"pk": {"S": f"{tag}-later"}})
    later = wait_for_results(runtime, mine, count=1)
    assert later[0]["record"]["dynamodb"]["Keys"]["pk"]["S"] == f"{tag}-later"
