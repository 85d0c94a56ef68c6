"""The running local runtime: HTTP API, Lambda Invoke API + metrics, triggers, hot reload.

One uvicorn server listens on two sockets, three with a WebSocket API: the API port serves
the template's HTTP API; the Lambda port serves the Invoke API (like `sam local
start-lambda`), `/metrics` (Prometheus) and `/_edu/report` (the `edu local report` table);
the WebSocket port serves the template's WebSocket API and its `@connections` API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.procs import PortInUse
from localcloud.runtime.admission import Budget
from localcloud.runtime.background import CLOSE_WAIT_S, Background, bounded
from localcloud.runtime.function_logs import FLUSH_EVERY_S, FunctionLogs
from localcloud.runtime.gateway import Gateway
from localcloud.runtime.invocation import LogSink, _print_sink, new_request_id
from localcloud.runtime.observe import Metrics, QueueDepth
from localcloud.runtime.pool import FunctionPools
from localcloud.runtime.site import StaticSite, site_config
from localcloud.runtime.triggers import Triggers
from localcloud.runtime.websocket import WebSocketGateway
from localcloud.runtime.websocket_routes import websocket_apis
from localcloud.template import Template

KEEP_ALIVE_S = 75  # as nginx: longer than any client keeps an idle connection
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")


def queue_depth(template: Template, endpoint: str) -> QueueDepth | None:
    names = [q.physical_name for q in template.of_type("AWS::SQS::Queue")]
    if not names or not endpoint:
        return None
    from localcloud.aws import local_client

    return QueueDepth(names, local_client("sqs", endpoint, template.region))


class LocalRuntime:
    def __init__(self, template: Template, base_env: dict[str, str], *, api_port: int,
                 lambda_port: int, endpoint: str, triggers: bool = True, watch: bool = True,
                 snapstart: bool | None = None, log: LogSink = _print_sink,
                 site: Path | None = None, budget: Budget | None = None,
                 stream_positions: Path | None = None,
                 on_ready: Callable[[], None] | None = None,
                 function_logs: Path | None = None, ws_port: int | None = None) -> None:
        self.template = template
        self.log = log
        self.runtime = FunctionPools(template, base_env, log, snapstart=snapstart, budget=budget)
        self.websocket = self._websocket_gateway(template, ws_port)
        ws_url = (f"ws://127.0.0.1:{ws_port}/{self.websocket.api.stage}"
                  if self.websocket is not None else None)
        self.gateway = Gateway(template, self.runtime, site=StaticSite(
            site, site_config(template, ws_url),
            [endpoint, *([f"ws://127.0.0.1:{ws_port}"] if ws_url else [])])
            if site is not None else None)
        self.metrics = Metrics(self.runtime, queue_depth(template, endpoint),
                               self.websocket.summary if self.websocket else None)
        self.triggers = (Triggers(template, self.runtime, endpoint, log, stream_positions)
                         if triggers else None)
        self.on_ready = on_ready  # once every trigger is wired (events sent after it arrive)
        self.function_logs = FunctionLogs(function_logs) if function_logs else None
        if self.function_logs is not None:  # `edu logs` reads them
            for pool in self.runtime.pools.values():
                pool.log = self.function_logs.sink(pool.fn.name, pool.log)
        self.watch = watch
        self.api_port = api_port
        self.lambda_port = lambda_port
        self.ws_port = ws_port
        self.endpoint = endpoint
        self._background = Background()
        self._watcher: asyncio.Task[None] | None = None
        self._by_name = {fn.name: fn.name for fn in template.functions.values()}
        for fn in template.functions.values():
            self._by_name[fn.arn] = fn.name
            self._by_name[fn.arn.rsplit(":", 1)[-1]] = fn.name

    def _websocket_gateway(self, template: Template, port: int | None
                           ) -> WebSocketGateway | None:
        """The template's WebSocket API on `port` (one per runtime: others are named)."""
        apis = websocket_apis(template)
        if not apis or port is None:
            return None
        for extra in apis[1:]:
            self.log(f"edu: {extra.logical_id}: only one WebSocket API is served locally "
                     f"({apis[0].logical_id})")
        return WebSocketGateway(apis[0], self.runtime, port)

    # --- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket" and self.websocket is not None:
            await self.websocket.websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        port = (scope.get("server") or ("", 0))[1]
        if self.websocket is not None and port == self.ws_port:
            await self.websocket.management(scope, receive, send)
        elif port == self.lambda_port:
            await self._lambda_api(scope, receive, send)
        elif scope["path"].startswith("/_edu/mail") and self.endpoint:
            await self._mailbox(scope, send)
        else:
            await self.gateway(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.triggers:
                        await self.triggers.start()
                    if self.watch:
                        self._watcher = asyncio.create_task(self._watch())
                    self._background.start(self.runtime.prepare())
                    if self.function_logs is not None:
                        self._background.start(self._flush_logs(self.function_logs))
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
                if self.on_ready is not None:
                    self.on_ready()
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _flush_logs(logs: FunctionLogs) -> None:
        try:
            while True:
                await asyncio.sleep(FLUSH_EVERY_S)
                logs.flush()
        finally:
            logs.close()

    async def close(self) -> None:
        """Stops hot reload, triggers, the runtime's own background work (async invokes,
        snapshots being taken) and every worker, within CLOSE_WAIT_S: what still waits
        then is logged, and the process goes on stopping without it."""
        stuck = await bounded(self._close())
        if stuck:
            self.log(f"edu: stopping took over {CLOSE_WAIT_S:.0f}s; still waiting: "
                     + "; ".join(stuck))

    async def _close(self) -> None:
        if self._watcher:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self.triggers:
            await self.triggers.stop()
        if self.websocket is not None:
            await self.websocket.close()
        for task in await self._background.cancel_all():
            self.log(f"edu: a runtime task did not stop when cancelled: {task}")
        await self.runtime.close()

    # --- local mail viewer ------------------------------------------------------------

    async def _mailbox(self, scope: dict[str, Any], send: Any) -> None:
        from urllib.parse import parse_qs

        from localcloud.aws import sent_emails
        from localcloud.mailbox import MESSAGE_CSP, mailbox_page, message_page

        messages = await asyncio.to_thread(sent_emails, self.endpoint)
        rest = scope["path"].removeprefix("/_edu/mail").strip("/")
        if not rest:
            query = parse_qs(scope.get("query_string", b"").decode())
            page = mailbox_page(messages, (query.get("to") or [None])[0])
            await _respond(send, 200, page.encode(), "text/html; charset=utf-8")
            return
        html = message_page(messages, int(rest)) if rest.isdigit() else None
        if html is None:
            await _respond(send, 404, b'{"message":"Not Found"}')
            return
        await _respond(send, 200, html.encode(), "text/html; charset=utf-8",
                       [(b"content-security-policy", MESSAGE_CSP.encode())])

    # --- Lambda Invoke API ------------------------------------------------------------

    async def _lambda_api(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/metrics" and method == "GET":
            if self.metrics.queues is not None:  # blocking SQS calls: off the event loop
                await asyncio.to_thread(self.metrics.queues.refresh)
            await _respond(send, 200, self.metrics.exposition(),
                           "text/plain; version=0.0.4; charset=utf-8")
            return
        if path == "/_edu/report" and method == "GET":
            await _respond(send, 200, json.dumps(self.metrics.report()).encode())
            return
        if path == "/_edu/websocket" and method == "GET" and self.websocket is not None:
            await _respond(send, 200, json.dumps(self.websocket.summary()).encode())
            return
        m = _INVOKE_PATH.match(path)
        if not m or method != "POST":
            await _respond(send, 404, json.dumps({"Type": "User", "message": "Not Found"})
                           .encode())
            return
        name = self._by_name.get(m.group("name"))
        if name is None:
            await _respond(send, 404, json.dumps({
                "Type": "User", "Message": f"Function not found: {m.group('name')}"}).encode(),
                extra=[(b"x-amzn-errortype", b"ResourceNotFoundException")])
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            problem = {"Type": "User", "message": "Could not parse request body into json"}
            await _respond(send, 400, json.dumps(problem).encode(),
                           extra=[(b"x-amzn-errortype", b"InvalidRequestContentException")])
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        request_id = new_request_id()
        if kind == "DryRun":
            await _respond(send, 204, b"", extra=[(b"x-amzn-requestid", request_id.encode())])
            return
        if kind == "Event":
            self._background.start(self.runtime.invoke(name, event, request_id))
            await _respond(send, 202, b"", extra=[(b"x-amzn-requestid", request_id.encode())])
            return
        result = await self.runtime.invoke(name, event, request_id)
        extra = [(b"x-amzn-requestid", request_id.encode()),
                 (b"x-amz-executed-version", b"$LATEST")]
        if result.status == "throttled":
            await _respond(send, 429, json.dumps({"Type": "User", "message": "Rate Exceeded.",
                                                  "Reason": "ReservedFunctionConcurrentInvocation"
                                                  "LimitExceeded"}).encode(),
                           extra=[*extra, (b"x-amzn-errortype", b"TooManyRequestsException")])
            return
        if result.ok:
            await _respond(send, 200, json.dumps(result.payload).encode(), extra=extra)
            return
        await _respond(send, 200, json.dumps(result.error).encode(),
                       extra=[*extra, (b"x-amz-function-error", b"Unhandled")])

    # --- hot reload -------------------------------------------------------------------

    async def _watch(self) -> None:
        try:
            await self._watch_forever()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # hot reload is a convenience: report, keep serving
            self.log(f"edu: hot reload stopped: {type(exc).__name__}: {exc}")

    async def _watch_forever(self) -> None:
        from watchfiles import awatch

        roots: dict[Path, set[str]] = {}
        for fn in self.template.functions.values():
            for path in (fn.code_uri, *self.template.layer_paths(fn)):
                roots.setdefault(path, set()).add(fn.name)
        existing = [p for p in roots if p.exists()]
        if not existing:
            return
        async for changes in awatch(*existing, recursive=True, debounce=200,
                                    watch_filter=lambda _c, p: p.endswith(WATCHED)):
            touched: set[str] = set()
            rebuilt = await self._rebuild_layers({Path(changed) for _c, changed in changes})
            for _change, changed in changes:
                if changed.endswith(".py"):
                    for root, names in roots.items():
                        if Path(changed).is_relative_to(root):
                            touched |= names
            for name in sorted(touched | rebuilt):
                pool = self.runtime.pools[name]
                await pool.recycle()
                if pool.launcher.snapstart:
                    # as publishing a version does: snapshot the new code now, not when the
                    # next request (under load, many) has to wait for its imports
                    self._background.start(pool.launcher.ensure_zygote())
                if pool.fn.provisioned_concurrency:
                    self._background.start(pool.prewarm())
            if touched or rebuilt:
                self.log(f"edu: code changed; recycled workers of "
                         f"{', '.join(sorted(touched | rebuilt))}")

    async def _rebuild_layers(self, changed: set[Path]) -> set[str]:
        """Rebuilds the layers a changed requirements file or Makefile builds (those only),
        and names the functions that use them."""
        artifacts = self.runtime.artifacts
        users = {fn.name: fn for path in changed if not path.name.endswith(".py")
                 for fn in artifacts.users_of(path)}
        if users:
            try:
                await asyncio.to_thread(artifacts.build, users.values())
            except Exception as exc:  # the previous build keeps serving
                self.log(f"edu: layer rebuild failed, workers keep the previous build: {exc}")
                return set()
        return set(users)


# A function's code, and what its layers are built from.
WATCHED = (".py", "requirements.txt", "Makefile")


async def _respond(send: Any, status: int, body: bytes, content_type: str = "application/json",
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bind(host: str, port: int, what: str, setting: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise PortInUse(what, port, setting) from None
    sock.listen(2048)
    return sock


def serve(app: LocalRuntime, host: str = "127.0.0.1") -> None:
    """Blocks until SIGINT/SIGTERM; then stops triggers and workers."""
    import uvicorn

    sockets = [bind(host, app.api_port, "HTTP API", "EDU_API_PORT"),
               bind(host, app.lambda_port, "Lambda Invoke API", "EDU_LAMBDA_PORT")]
    if app.websocket is not None and app.ws_port is not None:
        sockets.append(bind(host, app.ws_port, "WebSocket API", "EDU_WS_PORT"))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5, proxy_headers=False,
                            # Idle keep-alive connections stay open this long (uvicorn's 5 s
                            # default closed them under clients waiting on another request,
                            # and a POST sent as the server closed was lost with it).
                            timeout_keep_alive=KEEP_ALIVE_S)
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
