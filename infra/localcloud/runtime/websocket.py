"""API Gateway WebSocket APIs served locally, as neither `sam local` nor LocalStack's free
edition does: a template's `AWS::ApiGatewayV2::Api` with `ProtocolType: WEBSOCKET`, its
routes (`$connect`, `$disconnect`, `$default` and custom keys picked by the API's
RouteSelectionExpression) and their Lambda integrations. Handlers get AWS's event shape
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

from localcloud.runtime.invocation import InvokeResult, new_request_id
from localcloud.runtime.pool import FunctionPools
from localcloud.template import Resource, Template

IDLE_S = float(os.environ.get("EDU_WS_IDLE_S", 600))  # AWS: 10 minutes without a frame
MAX_S = float(os.environ.get("EDU_WS_MAX_S", 7200))  # AWS: 2 hours per connection
MANAGEMENT = re.compile(r"^(?:/[^/@]+)?/@connections/(?P<id>[^/]+)/?$")


@dataclass(frozen=True)
class WebSocketRoute:
    key: str
    function: str  # the integration's function (logical id)
    two_way: bool  # a RouteResponseSelectionExpression: the integration's answer goes back


@dataclass
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    selection: str  # e.g. "$request.body.action"
    routes: dict[str, WebSocketRoute] = field(default_factory=dict)

    def route_for(self, body: str) -> WebSocketRoute | None:
        """The route a message selects: the key the selection expression reads from its JSON
        body, else `$default` (None when there is neither)."""
        key = None
        path = self.selection.removeprefix("$request.body.")
        if path != self.selection:
            try:
                value: Any = json.loads(body)
                for part in path.split("."):
                    value = value[part] if isinstance(value, dict) else None
                key = value if isinstance(value, str) else None
            except ValueError:
                key = None
        return self.routes.get(key or "") or self.routes.get("$default")


def websocket_apis(template: Template) -> list[WebSocketApi]:
    """The template's WebSocket APIs with their routes; routes whose integration is not a
    Lambda function of the template are named in the template's warnings."""
    by_arn = {fn.arn: name for name, fn in template.functions.items()}
    integrations: dict[str, str] = {}
    for integ in template.of_type("AWS::ApiGatewayV2::Integration"):
        uri = str(integ.properties.get("IntegrationUri", ""))
        target = next((name for arn, name in by_arn.items()
                       if f"{arn}/invocations" in uri or uri == arn), None)
        if target is not None:
            integrations[integ.physical_name] = target
    stages = {str(s.properties.get("ApiId")): str(s.properties.get("StageName", "Prod"))
              for s in template.of_type("AWS::ApiGatewayV2::Stage")}
    apis = []
    for api in template.of_type("AWS::ApiGatewayV2::Api"):
        if str(api.properties.get("ProtocolType", "")).upper() != "WEBSOCKET":
            template.warnings.append(f"{api.logical_id}: an ApiGatewayV2 HTTP API declared "
                                     "without SAM is not served locally")
            continue
        found = WebSocketApi(api.logical_id, api.physical_name,
                             stages.get(api.physical_name, "Prod"),
                             str(api.properties.get("RouteSelectionExpression",
                                                    "$request.body.action")))
        for route in template.of_type("AWS::ApiGatewayV2::Route"):
            if str(route.properties.get("ApiId")) == api.physical_name:
                _add_route(found, route, integrations, template.warnings)
        apis.append(found)
    return apis


def _add_route(api: WebSocketApi, route: Resource, integrations: dict[str, str],
               warnings: list[str]) -> None:
    key = str(route.properties.get("RouteKey", ""))
    target = str(route.properties.get("Target", "")).removeprefix("integrations/")
    function = integrations.get(target)
    if function is None:
        warnings.append(f"{api.logical_id}: route {key} is not served locally (its "
                        "integration is not a function of this template)")
        return
    api.routes[key] = WebSocketRoute(key, function, bool(
        route.properties.get("RouteResponseSelectionExpression")))


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


class WebSocketGateway:
    """One WebSocket API on its own port: the sockets, the routes' invocations and the
    `@connections` API."""

    def __init__(self, api: WebSocketApi, runtime: FunctionPools, port: int,
                 idle_s: float = IDLE_S, max_s: float = MAX_S) -> None:
        self.api = api
        self.runtime = runtime
        self.domain = f"127.0.0.1:{port}"
        self.idle_s = idle_s
        self.max_s = max_s
        self.connections: dict[str, Connection] = {}

    # --- the sockets ----------------------------------------------------------------------

    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        client = scope.get("client") or ("127.0.0.1", 0)
        conn = Connection(new_connection_id(), send, str(client[0]),
                          headers.get("user-agent", ""))
        connect = self.api.routes.get("$connect")
        if connect is not None:
            event = self._event(conn, connect.key, "CONNECT", headers=headers,
                                query=scope.get("query_string", b"").decode("latin-1"))
            if not _allowed(await self.runtime.invoke(connect.function, event)):
                await send({"type": "websocket.close", "code": 1008})  # HTTP 403
                return
        await send({"type": "websocket.accept"})
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
        if headers is not None:
            event["headers"] = headers
            event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        if query:
            pairs = [part.partition("=") for part in query.split("&") if part]
            event["queryStringParameters"] = {k: v for k, _, v in pairs}
            event["multiValueQueryStringParameters"] = {k: [v] for k, _, v in pairs}
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
            await _answer(send, 200, None)
        elif method == "GET":
            await _answer(send, 200, conn.info())
        elif method == "DELETE":
            await conn.send({"type": "websocket.close", "code": 1000})
            await _answer(send, 204, None)
        else:
            await _answer(send, 405, {"message": "Method Not Allowed"})

    async def close(self) -> None:
        for conn in list(self.connections.values()):
            await conn.send({"type": "websocket.close", "code": 1001})


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
