"""Local API Gateway (HTTP API, payload format 2.0; REST `Api` events get 1.0) as ASGI.

Routes come from the template's HttpApi/Api events. Errors follow API Gateway: unmatched
route 404 {"message":"Not Found"}, handler failure 502, timeout 504, throttle 429.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from localcloud.runtime.auth import Authorizers
from localcloud.runtime.invocation import InvokeResult, new_request_id
from localcloud.runtime.pool import FunctionPools
from localcloud.runtime.site import StaticSite
from localcloud.template import Function, Template

ASGIScope = dict[str, Any]
Receive = Any
Send = Any

_HOP_HEADERS = {b"content-length", b"transfer-encoding", b"connection"}
_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml",
               "application/javascript", "application/x-www-form-urlencoded")


@dataclass
class Route:
    method: str        # upper-case or ANY
    path: str          # template path, e.g. /courses/{id}
    function: Function
    payload_version: str
    regex: re.Pattern[str]
    specificity: tuple[int, int, int]
    api_id: str = ""
    auth: dict[str, Any] | None = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


def _compile(path: str) -> tuple[re.Pattern[str], tuple[int, int, int]]:
    if path == "$default":
        return re.compile(r"^.*$"), (-1, 0, 0)
    pattern, literal, params, greedy = "", 0, 0, 0
    for part in path.strip("/").split("/") if path != "/" else []:
        m = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", part)
        if m and m.group(2):
            pattern += f"/(?P<{m.group(1)}>.+)"
            greedy += 1
        elif m:
            pattern += f"/(?P<{m.group(1)}>[^/]+)"
            params += 1
        else:
            pattern += "/" + re.escape(part)
            literal += 1
    # More literal segments win, then fewer greedy params (API Gateway's precedence).
    return re.compile("^" + (pattern or "/") + "/?$"), (literal, -greedy, -params)


def build_routes(template: Template) -> list[Route]:
    routes = []
    for fn in template.functions.values():
        for ev in fn.events:
            if ev.type not in ("HttpApi", "Api"):
                continue
            path = str(ev.properties.get("Path", "$default"))
            method = str(ev.properties.get("Method", "ANY")).upper()
            if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                method = "ANY"
            version = "2.0" if ev.type == "HttpApi" else "1.0"
            version = str(ev.properties.get("PayloadFormatVersion", version))
            regex, spec = _compile(path)
            routes.append(Route(method, path, fn, version, regex, spec,
                                api_id=str(ev.properties.get("ApiId", "")),
                                auth=ev.properties.get("Auth")))
    routes.sort(key=lambda r: (r.specificity, r.method != "ANY"), reverse=True)
    return routes


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        m = route.regex.match(path)
        if m:
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


def cors_config(template: Template) -> dict[str, Any] | None:
    for api in template.apis.values():
        cors = api.properties.get("CorsConfiguration")
        if cors:
            return cors if isinstance(cors, dict) else {"AllowOrigins": ["*"]}
    return None


_time_cache: list[Any] = [0, ""]


def _now() -> tuple[str, int]:
    epoch_ms = int(time.time() * 1000)
    second = epoch_ms // 1000
    if _time_cache[0] != second:  # formatting once per second, not per request
        _time_cache[0] = second
        _time_cache[1] = datetime.fromtimestamp(second, UTC).strftime(
            "%d/%b/%Y:%H:%M:%S +0000")
    return str(_time_cache[1]), epoch_ms


def build_event_v2(route: Route, scope: ASGIScope, headers: list[tuple[bytes, bytes]],
                   body: bytes, params: dict[str, str], request_id: str) -> dict[str, Any]:
    hdrs: dict[str, str] = {}
    cookies: list[str] = []
    for k, v in headers:
        key, value = k.decode("latin-1").lower(), v.decode("latin-1")
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        hdrs[key] = f"{hdrs[key]},{value}" if key in hdrs else value
    raw_query = scope.get("query_string", b"").decode("latin-1")
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    is_text = _is_text(hdrs.get("content-type", ""), body)
    time_str, epoch = _now()
    client = scope.get("client") or ("127.0.0.1", 0)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": scope["path"],
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": hdrs.get("host", ""),
            "domainPrefix": "local", "requestId": request_id, "routeKey": route.route_key,
            "stage": "$default", "time": time_str, "timeEpoch": epoch,
            "http": {"method": scope["method"], "path": scope["path"],
                     "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                     "sourceIp": client[0], "userAgent": hdrs.get("user-agent", "")},
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


def build_event_v1(route: Route, scope: ASGIScope, headers: list[tuple[bytes, bytes]],
                   body: bytes, params: dict[str, str], request_id: str) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for k, v in headers:
        key, value = k.decode("latin-1"), v.decode("latin-1")
        single[key] = value
        multi.setdefault(key, []).append(value)
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    mq: dict[str, list[str]] = {}
    for k, v in pairs:
        mq.setdefault(k, []).append(v)
    is_text = _is_text(single.get("content-type", single.get("Content-Type", "")), body)
    time_str, epoch = _now()
    return {
        "resource": route.path, "path": scope["path"], "httpMethod": scope["method"],
        "headers": single, "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in mq.items()} or None,
        "multiValueQueryStringParameters": mq or None,
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": {"accountId": "123456789012", "apiId": "local", "stage": "Prod",
                           "requestId": request_id, "httpMethod": scope["method"],
                           "path": scope["path"], "resourcePath": route.path,
                           "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                           "resourceId": "local", "domainName": "localhost",
                           "requestTime": time_str, "requestTimeEpoch": epoch,
                           "identity": {"sourceIp": (scope.get("client") or ["127.0.0.1"])[0]}},
        "body": (body.decode() if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _is_text(content_type: str, body: bytes) -> bool:
    """Whether the body travels as text: a text content type and valid UTF-8 (a body that
    is not, whatever its type claims, is base64-encoded rather than mangled)."""
    ct = content_type.lower()
    if not (not ct or ct.startswith(_TEXT_TYPES) or ct.endswith("+json")):
        return False
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def shape_response(result: InvokeResult, version: str
                   ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if result.status == "throttled":  # API Gateway's throttling answer, with a hint
        status, plain, message = _message(429, "Too Many Requests")
        return status, [*plain, (b"retry-after", b"1")], message
    if result.status == "timeout":
        return _message(504, "Endpoint request timed out")
    if not result.ok:
        return _message(502, "Internal Server Error")
    payload = result.payload
    if version == "2.0" and not (isinstance(payload, dict) and "statusCode" in payload):
        # HTTP API 2.0 infers a 200 JSON response from a bare return value.
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return 200, [(b"content-type", b"application/json")], text.encode()
    if not isinstance(payload, dict):
        return _message(502, "Internal Server Error")
    try:
        status = int(payload.get("statusCode", 200))
    except (TypeError, ValueError):
        return _message(502, "Internal Server Error")
    headers: list[tuple[bytes, bytes]] = []
    for k, v in (payload.get("headers") or {}).items():
        headers.append((str(k).lower().encode("latin-1"), str(v).encode("latin-1")))
    for k, values in (payload.get("multiValueHeaders") or {}).items():
        for v in values:
            headers.append((str(k).lower().encode("latin-1"), str(v).encode("latin-1")))
    # Framing is the gateway's job (as on API Gateway): a handler's own length would
    # duplicate ours and break clients.
    headers = [h for h in headers if h[0] not in _HOP_HEADERS]
    for cookie in payload.get("cookies") or []:
        headers.append((b"set-cookie", str(cookie).encode("latin-1")))
    raw = payload.get("body")
    if raw is None:
        body = b""
    elif payload.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
    if not any(k == b"content-type" for k, _ in headers) and body:
        headers.append((b"content-type", b"application/json"))
    return status, headers, body


def _message(status: int, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [(b"content-type", b"application/json")], json.dumps(
        {"message": message}).encode()


class Gateway:
    """The ASGI app; `uvicorn` serves it."""

    def __init__(self, template: Template, runtime: FunctionPools, *, max_body: int = 10 * 2**20,
                 site: StaticSite | None = None) -> None:
        self.template = template
        self.site = site
        self.runtime = runtime
        self.routes = build_routes(template)
        self.cors = cors_config(template)
        self.max_body = max_body  # API Gateway's payload limit is 10 MB
        by_arn = {fn.arn: fn.name for fn in template.functions.values()}
        self.authorizers = {
            api.physical_name: Authorizers(api.properties.get("Auth") or {}, runtime, by_arn)
            for api in template.apis.values()}
        self._no_auth = Authorizers({}, runtime, by_arn)

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"].upper()
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        origin = next((v.decode("latin-1") for k, v in headers if k == b"origin"), None)
        if method == "OPTIONS" and self.cors and origin:
            await self._respond(send, 204, self._cors_headers(origin, preflight=True), b"")
            return
        found = match(self.routes, method, scope["path"])
        if found is None and self.site is not None and method in ("GET", "HEAD"):
            accept = next((v for k, v in headers if k == b"accept"), b"")
            page = self.site.lookup(scope["path"], wants_html=b"text/html" in accept)
            if page is not None:
                await self._respond(send, page.status, [
                    (b"content-type", page.content_type.encode()),
                    (b"cache-control", page.cache_control.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    *((k.encode(), v.encode()) for k, v in page.headers.items())],
                    b"" if method == "HEAD" else page.body)
                return
        if found is None:
            status, hdrs, payload = _message(404, "Not Found")
            await self._respond(send, status, hdrs + self._cors_headers(origin), payload)
            return
        route, params = found
        body = await self._read_body(receive)
        if body is None:
            status, hdrs, payload = _message(413, "Request Entity Too Large")
            await self._respond(send, status, hdrs, payload)
            return
        request_id = new_request_id()
        build = build_event_v2 if route.payload_version == "2.0" else build_event_v1
        event = build(route, scope, headers, body, params, request_id)
        authorizers = self.authorizers.get(route.api_id, self._no_auth)
        auth_name, scopes = authorizers.for_route(route.auth)
        if auth_name is not None:
            decision = await authorizers.authorize(
                auth_name, scopes, {k.lower(): v for k, v in (event.get("headers") or {}).items()},
                event.get("queryStringParameters") or {}, event)
            if not decision.allowed:
                status, hdrs, payload = _message(decision.status, decision.message)
                await self._respond(send, status, hdrs + decision.headers
                                    + self._cors_headers(origin), payload)
                return
            event["requestContext"]["authorizer"] = decision.context
        result = await self.runtime.invoke(route.function.name, event, request_id)
        status, hdrs, payload = shape_response(result, route.payload_version)
        hdrs.append((b"apigw-requestid", request_id.encode()))
        await self._respond(send, status, hdrs + self._cors_headers(origin), payload)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _cors_headers(self, origin: str | None, *, preflight: bool = False
                      ) -> list[tuple[bytes, bytes]]:
        if not self.cors or not origin:
            return []
        allowed = [str(o) for o in self.cors.get("AllowOrigins", [])]
        if "*" not in allowed and origin not in allowed:
            return []
        out = [(b"access-control-allow-origin", ("*" if "*" in allowed else origin).encode())]
        if "*" not in allowed:  # the answer depends on Origin: caches must keep one per origin
            out.append((b"vary", b"Origin"))
        if self.cors.get("AllowCredentials"):
            out.append((b"access-control-allow-credentials", b"true"))
        if self.cors.get("ExposeHeaders") and not preflight:
            out.append((b"access-control-expose-headers",
                        ",".join(self.cors["ExposeHeaders"]).encode()))
        if preflight:
            out.append((b"access-control-allow-methods",
                        ",".join(self.cors.get("AllowMethods", ["*"])).encode()))
            if self.cors.get("AllowHeaders"):
                out.append((b"access-control-allow-headers",
                            ",".join(self.cors["AllowHeaders"]).encode()))
            if self.cors.get("MaxAge") is not None:
                out.append((b"access-control-max-age", str(self.cors["MaxAge"]).encode()))
        return out

    async def _respond(self, send: Send, status: int, headers: list[tuple[bytes, bytes]],
                       body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.runtime.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


