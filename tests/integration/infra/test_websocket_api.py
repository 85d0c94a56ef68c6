"""A WebSocket API served by `edu local start-api` (tests/fixtures/websocket_chat, written
as for AWS): the $connect authorizer and function refuse clients, messages reach routes by the
API's selection expression, a handler fans out through boto3's `apigatewaymanagementapi`,
`$default` answers through its route response, the `@connections` API gets, posts to and
deletes connections (410 GoneException once one is gone), $disconnect runs, and an idle
connection is closed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from localcloud.aws import bootstrap
from localcloud.procs import free_port, port_open
from localcloud.stack import LocalCloud
from localcloud.template import load_template
from tests.support.aws import aws_client

ROOT = Path(__file__).resolve().parents[3]
CHAT = ROOT / "tests/fixtures/websocket_chat/template.yaml"
IDLE_S = 6


@dataclass
class Chat:
    ws: str
    table: str
    log: Path
    lambda_api: str

    def join(self, token: str | None = "let-me-in", name: str = "ada") -> ClientConnection:
        query = f"?name={name}" + (f"&token={token}" if token is not None else "")
        return connect(f"{self.ws}/Prod{query}", open_timeout=20)

    def management(self) -> Any:
        endpoint = self.ws.replace("ws://", "http://") + "/Prod"  # as a handler builds it
        return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint,
                            region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def chat(cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    template = load_template(CHAT, endpoint=cloud.aws_url)
    bootstrap(template, cloud.aws_url)
    port, lambda_port, ws_port = free_port(), free_port(), free_port()
    log = tmp_path_factory.mktemp("ws") / "runtime.log"
    env = dict(os.environ, AWS_ENDPOINT_URL=cloud.aws_url, EDU_WS_IDLE_S=str(IDLE_S))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t", str(CHAT),
             "--port", str(port), "--lambda-port", str(lambda_port), "--ws-port", str(ws_port),
             "--no-watch"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while not port_open(ws_port):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "start-api did not listen"
        time.sleep(0.05)
    yield Chat(f"ws://127.0.0.1:{ws_port}",
               template.resources["ConnectionsTable"].physical_name, log,
               f"http://127.0.0.1:{lambda_port}")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)


def whoami(client: ClientConnection) -> str:
    client.send("who am I?")  # no "action": the $default route, which answers
    answer = json.loads(client.recv(timeout=20))
    assert answer["route"] == "$default" and answer["eventType"] == "MESSAGE"
    assert answer["user"] in ("ada", "bob", "cy")  # the authorizer's context, on every event
    assert answer["echo"] == "who am I?" and answer["stage"] == "Prod"
    return str(answer["connectionId"])


def test_connect_is_refused_without_the_token_or_by_the_connect_function(
        chat: Chat) -> None:
    for token, name, status in ((None, "ada", 401),  # no identity: the authorizer is not asked
                                ("wrong", "ada", 403),  # its policy denies
                                ("let-me-in", "banned", 403)):  # $connect answers 403
        with pytest.raises(InvalidStatus) as refused:
            chat.join(token=token, name=name)
        assert refused.value.response.status_code == status, (token, name)


def test_two_clients_chat_and_the_connections_api_sees_them(
        chat: Chat, cloud: LocalCloud) -> None:
    with chat.join() as ada, chat.join(name="bob") as bob:
        ada_id, bob_id = whoami(ada), whoami(bob)
        assert ada_id != bob_id
        ada.send(json.dumps({"action": "sendmessage", "data": "hello, class"}))
        assert ada.recv(timeout=20) == "hello, class"
        assert bob.recv(timeout=20) == "hello, class"

        api = chat.management()
        info = api.get_connection(ConnectionId=bob_id)
        assert info["LastActiveAt"] >= info["ConnectedAt"]
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        api.post_to_connection(ConnectionId=bob_id, Data=b"just for you")
        assert bob.recv(timeout=20) == "just for you"

        api.delete_connection(ConnectionId=bob_id)
        with pytest.raises(ConnectionClosed):
            bob.recv(timeout=20)
        with pytest.raises(ClientError) as gone:
            api.post_to_connection(ConnectionId=bob_id, Data=b"too late")
        assert gone.value.response["Error"]["Code"] == "GoneException"
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410

    table = aws_client(cloud, "dynamodb")
    deadline = time.monotonic() + 20  # $disconnect ran for both: the table is empty again
    while table.scan(TableName=chat.table)["Items"]:
        assert time.monotonic() < deadline, "a connection outlived its $disconnect"
        time.sleep(0.2)


def test_an_idle_connection_is_closed(chat: Chat) -> None:
    with chat.join() as quiet:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            quiet.recv(timeout=IDLE_S + 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert IDLE_S - 1 <= time.monotonic() - started <= IDLE_S + 20


def test_the_runtime_counts_connections_and_messages(chat: Chat) -> None:
    """/_edu/websocket (what `edu local report` prints) and /metrics count what happened."""
    def summary() -> dict[str, Any]:
        return dict(httpx.get(f"{chat.lambda_api}/_edu/websocket", timeout=10).json())

    before = summary()
    with pytest.raises(InvalidStatus):
        chat.join(token="wrong")
    with chat.join(name="cy") as cy:
        whoami(cy)
        assert summary()["open"] == before["open"] + 1
    after = summary()
    assert after["refused"] - before["refused"] == 1
    assert after["accepted"] - before["accepted"] == 1
    assert after["messages_in"]["$default"] - before["messages_in"].get("$default", 0) == 1
    assert after["messages_out"] - before["messages_out"] == 1  # the route's answer
    exposed = httpx.get(f"{chat.lambda_api}/metrics", timeout=10).text
    assert 'websocket_messages_in_total{route="$default"}' in exposed
    assert "websocket_connections_open" in exposed
