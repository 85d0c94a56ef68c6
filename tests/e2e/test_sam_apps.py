"""`edu up -t` runs SAM applications nobody wrote for this platform, their templates as they
are: one small application per shape of the public samples (tests/fixtures/sam_apps). Each
gets the local AWS endpoint alone (no PostgreSQL, Redis, Stripe or platform setup), its
resources provisioned, its routes served and its triggers run."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from localcloud.procs import free_port
from tests.support.dap import DapClient
from tests.support.edu_cli import ROOT, edu, fresh_shell, start_up

APPS = ROOT / "tests/fixtures/sam_apps"
STACK = "sam-app"


@dataclass
class App:
    api: str
    aws_url: str
    log: Path
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_url,  # type: ignore[call-overload]
                            region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")


@pytest.fixture
def run_app(tmp_path: Path) -> Iterator[Callable[[str], App]]:
    """Starts `edu up -t <app>/template.yaml --stack-name sam-app` for an application."""
    running: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> App:
        env, ports = fresh_shell(tmp_path / "home")
        log = tmp_path / "up.log"
        template = APPS / name / "template.yaml"
        running.append(start_up(env, log, tmp_path / "home", ports["EDU_API_PORT"], "-t",
                                str(template), "--stack-name", STACK, "--ephemeral"))
        return App(f"http://127.0.0.1:{ports['EDU_API_PORT']}",
                   f"http://127.0.0.1:{ports['EDU_AWS_PORT']}", log, env)

    yield start
    for up in running:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=30)


def eventually(check: Callable[[], Any], what: str, log: Path, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()[-3000:]}"
        time.sleep(0.25)


def test_rest_api_and_dynamodb_with_implicit_resources_and_inline_code(
        run_app: Callable[[str], App]) -> None:
    app = run_app("rest_dynamodb")
    text = app.log.read_text()
    assert "PostgreSQL" not in text and "applied migration" not in text  # the endpoint alone
    assert "Stack sam-app is up" in text
    hello = httpx.get(f"{app.api}/hello", timeout=30)
    assert hello.json() == {"message": "hello world", "sam_local": "true"}
    put = httpx.put(f"{app.api}/items/i-1", json={"title": "SAM"}, timeout=30)
    assert put.status_code == 201, put.text
    got = httpx.get(f"{app.api}/items/i-1", timeout=30)
    assert got.json() == {"id": "i-1", "title": "SAM"}
    assert httpx.get(f"{app.api}/items/nope", timeout=30).status_code == 404
    table = app.client("dynamodb").describe_table(TableName=f"{STACK}-ItemsTable")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    template = str(APPS / "rest_dynamodb/template.yaml")
    status = edu("status", "-t", template, env=app.env)
    assert status.returncode == 0, status.stdout
    assert "postgres" not in status.stdout and status.stdout.count("healthy") == 2
    # Each function's lines are kept for `edu logs` (flushed within a second).
    logs = eventually(lambda: (got := edu("logs", "HelloFunction", "-t", template, "--since",
                                          "5m", "--filter", "REPORT", env=app.env)).stdout
                      and got, "no REPORT line in edu logs", app.log)
    assert logs.returncode == 0 and "Init Duration" in logs.stdout
    everything = edu("logs", "-t", template, env=app.env).stdout.splitlines()
    assert {line.split()[0] for line in everything} == {"HelloFunction", "ItemsFunction"}


def test_http_api_with_conditions(run_app: Callable[[str], App]) -> None:
    app = run_app("http_api")
    got = httpx.get(f"{app.api}/greet/ada", timeout=30).json()
    assert got == {"greeting": "Hi, ada", "region_part": "east", "route": "GET /greet/{name}"}
    spec = httpx.get(f"{app.api}/spec/grace", timeout=30).json()  # an OpenAPI-only route
    assert spec["greeting"] == "Hi, grace" and spec["route"] == "GET /spec/{name}"
    assert "SpecApi: GET /mocked is not served locally (its integration is mock" in \
        app.log.read_text()
    queues = app.client("sqs").list_queues().get("QueueUrls", [])
    assert not any("ProdOnlyQueue" in url for url in queues)  # its Condition is false


def test_sqs_filters_drop_what_they_do_not_match_and_poison_goes_to_the_dlq(
        run_app: Callable[[str], App]) -> None:
    app = run_app("sqs_filters")
    sqs, ddb = app.client("sqs"), app.client("dynamodb")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-OrdersQueue")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{STACK}-OrdersDLQ")["QueueUrl"]
    for body in ({"order_id": "o-1", "kind": "order"}, {"order_id": "o-2", "kind": "refund"},
                 "not json at all", {"order_id": "o-3", "kind": "order", "poison": True}):
        sqs.send_message(QueueUrl=queue, MessageBody=body if isinstance(body, str)
                         else json.dumps(body))
    table = f"{STACK}-OrdersTable"
    eventually(lambda: ddb.get_item(TableName=table, Key={"order_id": {"S": "o-1"}})
               .get("Item"), "the matching order was not stored", app.log)
    moved = eventually(lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)
                       .get("Messages"), "the poison message did not reach the DLQ", app.log)
    assert json.loads(moved[0]["Body"])["order_id"] == "o-3"
    # What the filter did not match was deleted, not retried: the queue is empty.
    eventually(lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0" and sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessagesNotVisible"] == "0", "the queue kept messages", app.log)
    stored = ddb.scan(TableName=table)["Items"]
    assert [i["order_id"]["S"] for i in stored] == ["o-1"]


def test_an_upload_to_one_bucket_is_written_to_another(run_app: Callable[[str], App]) -> None:
    app = run_app("s3_chain")
    s3 = app.client("s3")
    s3.put_object(Bucket=f"{STACK}-sourcebucket", Key="notes/hello world.txt", Body=b"quiet")
    s3.put_object(Bucket=f"{STACK}-sourcebucket", Key="notes/skip.bin", Body=b"binary")
    done = eventually(lambda: s3.list_objects_v2(Bucket=f"{STACK}-destinationbucket")
                      .get("Contents"), "nothing reached the destination bucket", app.log)
    assert [o["Key"] for o in done] == ["notes/hello world.txt"]
    body = s3.get_object(Bucket=f"{STACK}-destinationbucket", Key="notes/hello world.txt")
    assert body["Body"].read() == b"QUIET"


def test_an_eventbridge_rule_delivers_events_of_aws_shape(
        run_app: Callable[[str], App]) -> None:
    app = run_app("eventbridge")
    app.client("events").put_events(Entries=[
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Resources": ["arn:x"],
         "Detail": json.dumps({"order_id": "o-9"})},
        {"Source": "shop.orders", "DetailType": "OrderShipped",
         "Detail": json.dumps({"order_id": "o-10"})}])
    ddb = app.client("dynamodb")
    table = f"{STACK}-SeenTable"
    item = eventually(lambda: ddb.get_item(TableName=table, Key={"id": {"S": "o-9"}})
                      .get("Item"), "the event did not arrive", app.log)
    assert item["missing"]["S"] == "[]" and item["account"]["S"] == "123456789012"
    assert item["time"]["S"].endswith("Z")
    time.sleep(1)
    assert "Item" not in ddb.get_item(TableName=table, Key={"id": {"S": "o-10"}})


def test_a_debugger_stops_a_request_served_by_edu_up(tmp_path: Path) -> None:
    env, ports = fresh_shell(tmp_path / "home")
    debug_port = free_port()
    handler = APPS / "http_api/src/app.py"
    line = next(n for n, text in enumerate(handler.read_text().splitlines(), 1)
                if "name = " in text)
    up = start_up(env, tmp_path / "up.log", tmp_path / "home", ports["EDU_API_PORT"], "-t",
                  str(APPS / "http_api/template.yaml"), "--ephemeral", "--debug-function",
                  "GreetingFunction", "--debug-port", str(debug_port))
    api = f"http://127.0.0.1:{ports['EDU_API_PORT']}"
    try:
        dap = DapClient.initialized(debug_port)  # the worker waits for it from the start
        dap.send("attach", justMyCode=False)
        dap.wait_for("event", "initialized")
        dap.send("setBreakpoints", source={"path": str(handler)}, breakpoints=[{"line": line}])
        assert dap.wait_for("response", "setBreakpoints")["success"]
        dap.send("configurationDone")
        dap.wait_for("response", "attach")  # the debugger is ready: breakpoints are set
        answers: list[httpx.Response] = []
        request = threading.Thread(target=lambda: answers.append(
            httpx.get(f"{api}/greet/ada", timeout=120)))
        request.start()
        stopped = dap.wait_for("event", "stopped")
        assert stopped["body"]["reason"] == "breakpoint"
        time.sleep(4)  # paused past the function's 3 s timeout: no timeout while debugged
        assert not answers
        dap.send("continue", threadId=stopped["body"]["threadId"])
        request.join(timeout=60)
        assert answers and answers[0].json()["greeting"] == "Hi, ada"
        dap.close()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=30)
