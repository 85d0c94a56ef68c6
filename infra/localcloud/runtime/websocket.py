"""API Gateway WebSocket APIs served locally, as neither `sam local` nor LocalStack's free
edition does: a template's `AWS::ApiGatewayV2::Api` with `ProtocolType: WEBSOCKET`, its
routes (`$connect`, `$disconnect`, `$default` and custom keys picked by the API's
RouteSelectionExpression), their Lambda integrations, and a Lambda REQUEST authorizer on
$connect (its Allow's context reaches every event of the connection; a missing identity is
a 401, a Deny a 403). Handlers get AWS's event shape
(`requestContext.connectionId`, `routeKey`, `eventType`, `domainName`, `stage`); a route
with a RouteResponseSelectionExpression sends its integration's answer back. The
`@connections` management API (PostToConnection, GetConnection, DeleteConnection) answers on
the same port, so boto3's `apigatewaymanagementapi` client works unchanged; a connection
that is gone is a 410 GoneException. Idle (10 minutes) and total (2 hours) limits close a
connection as AWS does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from localcloud.intrinsics import ACCOUNT_ID
from localcloud.runtime.auth import identity_values, policy_allows
from localcloud.runtime.invocation import InvokeResult, new_request_id
from localcloud.runtime.pool import FunctionPools
from localcloud.runtime.websocket_routes import WebSocketApi

IDLE_S = float(os.environ.get("EDU_WS_IDLE_S", 600))  # AWS: 10 minutes without a frame
MAX_S = float(os.environ.get("EDU_WS_MAX_S", 7200))  # AWS: 2 hours per connection
MANAGEMENT = re.compile(r"^(?:/[^/@]+)?/@connections/(?P<id>[^/]+)/?$")


def new_connection_id() -> str:
    """Shaped like AWS's (base64 of random bytes, e.g. "L0SM9cOFvHcCIhw="), from the URL-safe
    alphabet: the id is a path segment of the @connections API."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


@dataclass
class Connection:
    id: str
    send: Any  # the ASGI send of its socket
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    authorizer: dict[str, Any] | None = None  # what the $connect authorizer allowed with

    async def post(self, data: bytes) -> None:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            await self.send({"type": "websocket.send", "bytes": data})
        else:
            await self.send({"type": "websocket.send", "text": text})

    def info(self) -> dict[str, Any]:
        """GetConnection's answer, in the API's wire names."""
        return {"connectedAt": _iso(self.connected_at),
                "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
                "lastActiveAt": _iso(self.last_active_at)}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class WebSocketStats:
    """What `/metrics` and `edu local report` show of the WebSocket API."""

    accepted: int = 0  # connections let in
    refused: int = 0  # turned down by the authorizer or $connect
    messages_in: dict[str, int] = field(default_factory=dict)  # by route ("-": none took it)
    messages_out: int = 0  # frames sent to clients: @connections posts, route responses

    def summary(self, open_now: int) -> dict[str, Any]:
        return {"open": open_now, "accepted": self.accepted, "refused": self.refused,
                "messages_in": dict(sorted(self.messages_in.items())),
                "messages_out": self.messages_out}


class WebSocketGateway:
    """One WebSocket API on its own port: the sockets, the routes' invocations and the
    `@connections` API."""

    def __init__(self, api: WebSocketApi, runtime: FunctionPools, port: int,
                 idle_s: float = IDLE_S, max_s: float = MAX_S) -> None:
        self.api = api
        self.runtime = runtime
        self.domain = f"127.0.0.1:{port}"
        self.region = runtime.template.region
        self.idle_s = idle_s
        self.max_s = max_s
        self.connections: dict[str, Connection] = {}
        self.stats = WebSocketStats()

    # --- the sockets ----------------------------------------------------------------------

    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        client = scope.get("client") or ("127.0.0.1", 0)
        conn = Connection(new_connection_id(), send, str(client[0]),
                          headers.get("user-agent", ""))
        query = scope.get("query_string", b"").decode("latin-1")
        if self.api.authorizer is not None:
            status = await self._authorize(conn, headers, query)
            if status != 200:
                self.stats.refused += 1
                await _refuse(scope, send, status)
                return
        connect = self.api.routes.get("$connect")
        if connect is not None:
            event = self._event(conn, connect.key, "CONNECT", headers=headers, query=query)
            result = await self.runtime.invoke(connect.function, event)
            if not _allowed(result):
                self.stats.refused += 1
                await _refuse(scope, send, 429 if result.status == "throttled" else 403)
                return
        await send({"type": "websocket.accept"})
        self.stats.accepted += 1
        self.connections[conn.id] = conn
        code, reason = 1000, ""
        try:
            code, reason = await self._serve(conn, receive)
        finally:
            self.connections.pop(conn.id, None)
            conn.closed.set()
            disconnect = self.api.routes.get("$disconnect")
            if disconnect is not None:
                event = self._event(conn, disconnect.key, "DISCONNECT", headers=headers)
                event["requestContext"].update(disconnectStatusCode=code,
                                               disconnectReason=reason)
                await self.runtime.invoke(disconnect.function, event)

    async def _authorize(self, conn: Connection, headers: dict[str, str], query: str) -> int:
        """The $connect authorizer's verdict as an HTTP status (200: come in); on an Allow,
        its context goes with every event of the connection."""
        spec = self.api.authorizer
        assert spec is not None
        params = _query(query)
        # A missing identity is a 401, uninvoked; sources read from the request context or
        # stage variables are not checked locally.
        readable = [src for src in spec.identity_sources
                    if src.startswith(("route.request.header.", "route.request.querystring."))]
        if identity_values(readable, headers, params) is None:
            return 401
        event = self._event(conn, "$connect", "CONNECT", headers=headers, query=query)
        event.update(type="REQUEST", stageVariables={}, methodArn=(
            f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{self.api.api_id}/"
            f"{self.api.stage}/$connect"))
        result = await self.runtime.invoke(spec.function, event)
        if result.status == "throttled":
            return 429  # the machine is busy: the client may try again shortly
        if not result.ok or not isinstance(result.payload, dict):
            return 500
        if not policy_allows(result.payload):
            return 403
        conn.authorizer = {**(result.payload.get("context") or {}),
                           "principalId": result.payload.get("principalId")}
        return 200

    async def _serve(self, conn: Connection, receive: Any) -> tuple[int, str]:
        """Routes the connection's messages until it closes; its close code and reason."""
        while True:
            now = time.time()
            wait = min(conn.last_active_at + self.idle_s, conn.connected_at + self.max_s) - now
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
            except TimeoutError:
                reason = ("Going away: the connection lived its longest"
                          if now >= conn.connected_at + self.max_s else "Going away: idle")
                await conn.send({"type": "websocket.close", "code": 1001, "reason": reason})
                return 1001, reason
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or 1005), str(message.get("reason") or "")
            conn.last_active_at = time.time()
            body = message.get("text")
            if body is None:
                body = (message.get("bytes") or b"").decode("utf-8", "replace")
            await self._message(conn, body)

    async def _message(self, conn: Connection, body: str) -> None:
        route = self.api.route_for(body)
        request_id = new_request_id()
        key = route.key if route is not None else "-"
        self.stats.messages_in[key] = self.stats.messages_in.get(key, 0) + 1
        if route is None:  # what AWS answers a message no route takes
            await conn.post(json.dumps({"message": "Forbidden", "connectionId": conn.id,
                                        "requestId": request_id}).encode())
            return
        event = self._event(conn, route.key, "MESSAGE", request_id=request_id)
        event["body"] = body
        event["requestContext"]["messageId"] = new_connection_id()
        result = await self.runtime.invoke(route.function, event, request_id)
        if not result.ok:
            await conn.post(json.dumps({"message": "Internal server error",
                                        "connectionId": conn.id,
                                        "requestId": request_id}).encode())
        elif route.two_way:
            answer = _body(result.payload)
            if answer is not None:
                await conn.post(answer.encode())
                self.stats.messages_out += 1

    def _event(self, conn: Connection, route_key: str, event_type: str, *,
               headers: dict[str, str] | None = None, query: str = "",
               request_id: str | None = None) -> dict[str, Any]:
        now = time.time()
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route_key, "eventType": event_type,
                "extendedRequestId": new_request_id(),
                "requestTime": datetime.fromtimestamp(now, UTC).strftime(
                    "%d/%b/%Y:%H:%M:%S +0000"),
                "messageDirection": "IN", "stage": self.api.stage,
                "connectedAt": int(conn.connected_at * 1000),
                "requestTimeEpoch": int(now * 1000),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                "requestId": request_id or new_request_id(), "domainName": self.domain,
                "connectionId": conn.id, "apiId": self.api.api_id},
            "isBase64Encoded": False}
        if conn.authorizer is not None:
            event["requestContext"]["authorizer"] = conn.authorizer
        if headers is not None:
            event["headers"] = headers
            event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        if query:
            params = _query(query)
            event["queryStringParameters"] = params
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()}
        return event

    # --- the @connections API -------------------------------------------------------------

    async def management(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = MANAGEMENT.match(scope["path"])
        if match is None:
            await _answer(send, 404, {"message": "Not Found"})
            return
        conn = self.connections.get(match["id"])
        if conn is None:
            await _answer(send, 410, {"message": None}, error_type="GoneException")
            return
        method = scope["method"]
        if method == "POST":
            await conn.post(await _read(receive))
            self.stats.messages_out += 1
            await _answer(send, 200, None)
        elif method == "GET":
            await _answer(send, 200, conn.info())
        elif method == "DELETE":
            await conn.send({"type": "websocket.close", "code": 1000})
            await _answer(send, 204, None)
        else:
            await _answer(send, 405, {"message": "Method Not Allowed"})

    def summary(self) -> dict[str, Any]:
        return self.stats.summary(len(self.connections))

    async def close(self) -> None:
        for conn in list(self.connections.values()):
            await conn.send({"type": "websocket.close", "code": 1001})


def _query(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))


async def _refuse(scope: dict[str, Any], send: Any, status: int) -> None:
    """Turns the handshake down with `status` where the server can say it (ASGI's
    websocket.http.response extension), else with the 403 a close before accept gives."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"message": {401: "Unauthorized", 403: "Forbidden",
                                   429: "Too Many Requests"}.get(
        status, "Internal server error")}).encode()
    await send({"type": "websocket.http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "websocket.http.response.body", "body": body})


def _allowed(result: InvokeResult) -> bool:
    """$connect lets the client in when the function succeeds without an error status."""
    if not result.ok:
        return False
    payload = result.payload
    status = payload.get("statusCode", 200) if isinstance(payload, dict) else 200
    return 200 <= int(status) < 300


def _body(payload: Any) -> str | None:
    if isinstance(payload, dict) and "statusCode" in payload:
        body = payload.get("body")
        return None if body is None else str(body)
    return None if payload is None else json.dumps(payload)


async def _read(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: Any, error_type: str | None = None) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(data)).encode())]
    if error_type:
        headers.append((b"x-amzn-errortype", error_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
