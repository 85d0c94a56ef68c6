"""The custom resources a deploy runs, invoked as CloudFormation invokes them (through the
Lambda Invoke API, the answer PUT to a presigned-URL stand-in): Custom::JwtKeys gives an empty
key secret one key and keeps an existing key set; Custom::DatabaseMigrations applies the
schema's migrations; a failure answers FAILED with the reason."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from localcloud.stack import LocalCloud
from tests.support.aws import aws_client
from tests.support.platform import RunningPlatform


class Answers:
    """A stand-in for CloudFormation's presigned response URL: keeps each PUT body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        answers = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                answers.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/answer?X-Amz-Signature=x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def answers() -> Iterator[Answers]:
    found = Answers()
    yield found
    found.server.shutdown()


def invoke(platform: RunningPlatform, answers: Answers, request_type: str,
           secret_id: str) -> dict[str, Any]:
    return custom_resource(platform, answers, "JwtKeysInitFunction", "JwtKeys",
                           request_type, {"SecretId": secret_id})


def custom_resource(platform: RunningPlatform, answers: Answers, function: str,
                    logical_id: str, request_type: str,
                    properties: dict[str, str]) -> dict[str, Any]:
    event = {"RequestType": request_type, "ResponseURL": answers.url,
             "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/edu/1",
             "RequestId": str(uuid.uuid4()), "LogicalResourceId": logical_id,
             "ResourceType": f"Custom::{logical_id}",
             "ResourceProperties": {"ServiceToken": "arn", **properties}}
    resp = httpx.post(f"{platform.lambda_api}/2015-03-31/functions/{function}/invocations",
                      json=event, timeout=120)
    assert resp.status_code == 200, resp.text
    assert answers.bodies, "no answer was PUT to the response URL"
    answer = answers.bodies.pop()
    assert answer["RequestId"] == event["RequestId"]
    assert answer["LogicalResourceId"] == logical_id
    return answer


def test_a_new_stack_gets_one_signing_key_and_keeps_it(
        cloud: LocalCloud, platform: RunningPlatform, answers: Answers) -> None:
    sm = aws_client(cloud, "secretsmanager")
    name = f"test-jwt-{uuid.uuid4().hex[:8]}"
    sm.create_secret(Name=name, SecretString='{"keys": []}')
    try:
        created = invoke(platform, answers, "Create", name)
        assert created["Status"] == "SUCCESS" and created["PhysicalResourceId"] == name
        keys = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["keys"]
        assert len(keys) == 1 and "BEGIN PRIVATE KEY" in keys[0]["private_key_pem"]
        # An update (or a re-run) leaves the key set alone: issued tokens keep verifying.
        assert invoke(platform, answers, "Update", name)["Status"] == "SUCCESS"
        assert invoke(platform, answers, "Delete", name)["Status"] == "SUCCESS"
        again = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["keys"]
        assert [k["kid"] for k in again] == [keys[0]["kid"]]
    finally:
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_a_failure_answers_failed_with_its_reason(
        platform: RunningPlatform, answers: Answers) -> None:
    failed = invoke(platform, answers, "Create", f"missing-{uuid.uuid4().hex[:8]}")
    assert failed["Status"] == "FAILED"
    assert "ResourceNotFoundException" in failed["Reason"]


def test_a_deploy_applies_the_schemas_migrations(
        cloud: LocalCloud, platform: RunningPlatform, answers: Answers) -> None:
    import psycopg

    from edu.adapters.migrations import discover

    answer = custom_resource(platform, answers, "DatabaseMigrationsFunction",
                             "DatabaseMigrations", "Create", {"Migrations": "0006"})
    assert answer["Status"] == "SUCCESS", answer
    with psycopg.connect(cloud.database_url) as conn:
        applied = [row[0] for row in conn.execute(
            "select name from schema_migrations order by version")]
    assert applied == [m.name for m in discover()]
