"""moto's server as the local AWS endpoint: a pooled HTTP server (cheroot, keep-alive) in
front of moto's WSGI app, with the fixes the `moto_*` modules install (`moto_dynamodb`,
`moto_sqs`, `moto_events`, `moto_s3_post`, `moto_memory`; state on disk: `moto_persistence`),
JSON calls handed to moto's response classes without Flask (`DirectDispatch`), a ledger of
the calls served and the server CPU they took (`CallLedger`, `GET /_edu/calls`), and a
garbage-collection freezer (`GcFreezer`: a full collection over a seeded moto stopped the
server for ~0.9 s).

Each fix answers exactly as moto's own path does (tests/integration/infra) and has an
`EDU_MOTO_*` switch to compare it with moto's (loadtests/bench/moto_bench.py).

    python -m localcloud.moto_server -H 127.0.0.1 -p 4566 [--state DIR]
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_local = threading.local()
GC_FREEZE_EVERY_S = 5.0


def install_cached_method_names() -> None:
    """moto lists a response class's methods with `inspect.getmembers` on every request to
    check the action exists (5% of the server's CPU under load); a class's methods do not
    change while it serves."""
    import functools

    import moto.core.responses as responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        responses.method_names_from_class)


def install_cheap_ids() -> None:
    """moto draws request ids, message ids and SQS receipt handles one `random.choice` per
    character (185 for a receipt handle) and converts an action's name to snake case on
    every call: together ~6% of the server's time under the gate (py-spy,
    docs/benchmarks/journal.md). Same alphabets and lengths, drawn with one `choices` call; the
    names are remembered."""
    import functools
    import string
    import sys

    import moto.core.utils as core_utils
    import moto.sqs.models as sqs_models
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True,
                          lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    def get_random_hex(self: Any, length: int = 8) -> str:
        return "".join(self.choices("0123456789abcdef", k=length))

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    MotoRandom.get_random_hex = get_random_hex  # type: ignore[method-assign]
    sqs_models.generate_receipt_handle = generate_receipt_handle
    original = core_utils.camelcase_to_underscores
    cached = functools.lru_cache(maxsize=4096)(original)
    for module in list(sys.modules.values()):  # the modules that imported it by name
        if getattr(module, "__name__", "").startswith("moto") and \
                getattr(module, "camelcase_to_underscores", None) is original:
            module.camelcase_to_underscores = cached  # type: ignore[attr-defined]


KEEP_ALIVE_CONNECTIONS = 2048


class GcFreezer:
    """Keeps CPython's full garbage collections short in a server that holds a large heap.

    moto keeps every item, message and object in memory: with `edu seed`'s 50K users a full
    (generation 2) collection walks millions of objects, and it holds the GIL throughout:
    measured 0.5-0.9 s per collection, every server thread stopped, a p99 spike for every
    AWS call in flight. Every few seconds, what survived a young collection is frozen
    (`gc.freeze`: moved out of the collector's sight), so full collections only see what
    arrived since. Garbage is still freed by reference counting; reference cycles that were
    frozen are reclaimed by one full collection after some work, once the server is idle
    (nobody waits for it then; the runtime's queue long-polls cost almost no CPU, so idle is
    judged by the CPU the process used, not by its request count)."""

    IDLE_CPU_SHARE = 0.05  # below this share of a core over a period: idle
    WORK_BEFORE_FULL_S = 5.0  # CPU seconds of work after which an idle full collection runs

    def __init__(self, every_s: float = GC_FREEZE_EVERY_S,
                 cpu_clock: Callable[[], float] = time.process_time) -> None:
        self.every_s = every_s
        self.cpu_clock = cpu_clock
        self._cpu = self._cpu_at_full = cpu_clock()

    def tick(self) -> bool:
        """One period's step; True when it ran a full collection."""
        now = self.cpu_clock()
        idle = now - self._cpu < self.IDLE_CPU_SHARE * self.every_s
        full = idle and now - self._cpu_at_full >= self.WORK_BEFORE_FULL_S
        if full:
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
        self._cpu = self.cpu_clock()
        if full:
            self._cpu_at_full = self._cpu
        return full

    def run(self) -> None:
        def loop() -> None:
            while True:
                time.sleep(self.every_s)
                self.tick()
        threading.Thread(target=loop, name="gc-freezer", daemon=True).start()


class CallLedger:
    """WSGI middleware: calls and server CPU (the serving thread's) per service operation.

    The service comes from the SigV4 credential scope, the operation from `X-Amz-Target`
    (JSON protocols) or the form's `Action` (query protocols); REST calls (S3) are counted
    by method. Two clock reads and a dict update per call."""

    PATH = "/_edu/calls"

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.calls: dict[tuple[str, str], list[float]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == self.PATH:
            return self._answer(environ, start_response)
        key = (self.service(environ), self.operation(environ))
        began = time.thread_time()
        try:
            return self.app(environ, start_response)
        finally:
            spent = time.thread_time() - began
            with self.lock:
                row = self.calls.setdefault(key, [0, 0.0])
                row[0] += 1
                row[1] += spent

    @staticmethod
    def service(environ: dict[str, Any]) -> str:
        """The service a call is signed for (its credential scope)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.partition("Credential=")[2].split(",", 1)[0].split("/")
        return scope[3] if len(scope) > 3 else "unsigned"

    @staticmethod
    def operation(environ: dict[str, Any]) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return str(target).rsplit(".", 1)[-1]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            import io
            from urllib.parse import parse_qs

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return action[0]
        return str(environ.get("REQUEST_METHOD", "?"))

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """GET: the table. DELETE: the table, then counting starts anew (one step, so no
        call falls between a read and a reset)."""
        with self.lock:
            ordered = sorted(self.calls.items(), key=lambda item: -item[1][1])
            if environ.get("REQUEST_METHOD") == "DELETE":
                self.calls = {}
        rows = [{"service": service, "operation": operation, "calls": int(count),
                 "cpu_ms": round(cpu * 1000, 1)}
                for (service, operation), (count, cpu) in ordered]
        body = json.dumps({"calls": rows}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


# JSON-protocol target prefixes -> moto's response class for them (what its Flask views call).
DIRECT_TARGETS = {
    "DynamoDB_20120810.": ("moto.dynamodb.responses", "DynamoHandler"),
    "DynamoDBStreams_20120810.": ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    "AmazonSQS.": ("moto.sqs.responses", "SQSResponse"),
    "AWSEvents.": ("moto.events.responses", "EventsHandler"),
}


# Query-protocol services (form-encoded `Action=...`, found by the credential scope's
# service) -> moto's response class for them.
DIRECT_QUERY_SERVICES = {
    "ses": ("moto.ses.responses", "EmailResponse"),
}


class DirectDispatch:
    """WSGI middleware: JSON-protocol calls of DynamoDB (and its streams), SQS and
    EventBridge (`X-Amz-Target`) and SES's form-encoded calls go straight to moto's response
    class for the service, as moto's Flask view would call it, without Flask's request
    context, routing and response machinery (~10% of the server's time under the gate, and
    SES sends an email per event: py-spy, `edu local calls`, docs/benchmarks/journal.md). No browser
    calls these APIs, so Flask's CORS hook has nothing to add; every other request takes
    moto's path."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.handlers: dict[tuple[str, str], Any] = {}

    def _handler(self, environ: dict[str, Any]) -> tuple[Any, str] | None:
        """moto's response class for the call and the content type it answers with."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target:
            prefix = target.split(".", 1)[0] + "."
            found = DIRECT_TARGETS.get(prefix)
            content_type = "application/x-amz-json-1.0"
        elif (environ.get("PATH_INFO") in ("", "/") and str(environ.get("CONTENT_TYPE", ""))
              .startswith("application/x-www-form-urlencoded")):
            found = DIRECT_QUERY_SERVICES.get(CallLedger.service(environ))
            content_type = "text/html; charset=utf-8"  # what Flask answers these with
        else:
            return None
        if found is None:
            return None
        if found not in self.handlers:
            import importlib

            module, name = found
            self.handlers[found] = getattr(importlib.import_module(module), name)
        return self.handlers[found], content_type

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        direct = self._handler(environ)
        if direct is None:
            return self.app(environ, start_response)
        handler, content_type = direct
        from moto.core.request import Request
        from moto.moto_api import recorder
        from werkzeug.http import HTTP_STATUS_CODES

        request = Request(environ)
        recorder._record_request(request)
        try:
            status, headers, body = handler.dispatch(request, request.raw_url,
                                                     dict(request.headers))
        except Exception:
            # What moto's Flask app answers an exception of moto's with: an empty 500, on a
            # connection that stays open. Raised into cheroot, it closed the connection
            # instead, and a client's retry on its pooled connection could meet a closed
            # socket (a test that failed once in CI).
            import traceback

            traceback.print_exc()  # to the server's log, as Flask logs it
            start_response("500 INTERNAL SERVER ERROR",
                           [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        out = [(str(k), str(v)) for k, v in headers.items()
               if str(k).lower() != "content-length"]
        if not any(k.lower() == "content-type" for k, _v in out):
            out.append(("Content-Type", content_type))
        out.append(("Content-Length", str(len(data))))
        start_response(f"{int(status)} {HTTP_STATUS_CODES.get(int(status), '')}", out)
        return [data]


def serve_pooled(host: str, port: int, threads: int = 32, state: Path | None = None) -> None:
    """moto's WSGI app behind cheroot: a fixed pool of threads and HTTP/1.1 keep-alive,
    instead of werkzeug's development server (a new thread and a new connection per
    request, which saturated a core under load; docs/benchmarks/journal.md)."""
    import signal

    from cheroot import wsgi
    from moto.server import DomainDispatcherApplication, create_backend_app

    os.environ.setdefault("MOTO_PORT", str(port))
    app: Callable[..., Any] = DomainDispatcherApplication(create_backend_app)
    if os.environ.get("EDU_MOTO_DIRECT_DISPATCH", "1") != "0":  # "0": compare in moto_bench
        app = DirectDispatch(app)
    if state is not None:
        from localcloud.moto_persistence import persistent

        began = time.perf_counter()
        app, restored = persistent(app, state)
        print(f"state: {state} ({restored}; {time.perf_counter() - began:.2f} s)", flush=True)
    if os.environ.get("EDU_MOTO_LEDGER", "1") != "0":  # "0": compare in moto_bench.py
        app = CallLedger(app)
    if os.environ.get("EDU_MOTO_GC_FREEZE", "1") != "0":  # "0": CPython's default collection
        GcFreezer().run()
    server = wsgi.Server((host, port), app, numthreads=threads, request_queue_size=512,
                         timeout=30, server_name="localcloud-moto")
    # cheroot keeps at most 10 idle keep-alive connections by default and closes the rest
    # after each response; every function worker holds its own, so under load nearly every
    # call paid a new TCP connection on both sides. Idle connections wait in cheroot's
    # selector, not in a thread, so a high limit costs no threads.
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS

    def shutdown(*_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        server.safe_start()
    finally:
        server.stop()


def install_dispatch_cache() -> None:
    """moto finds the service of every request by matching its host against each of its
    hundreds of backends' URL patterns, under a global lock: about half of the server's CPU
    per DynamoDB call (py-spy, docs/benchmarks/journal.md). The answer for a host never changes, so
    it is remembered."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str, Any] = {}

    def cached(self: Any, host: str | None) -> Any:
        if host is None:
            return None
        if host not in known:
            backend = original(self, host)
            if backend is None:
                return None  # unknown hosts are rare and may be retried differently
            known[host] = backend
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = cached  # type: ignore[method-assign]


def main() -> None:
    from localcloud.memory import return_big_buffers
    from localcloud.moto_dynamodb import (
        install_atomic_writes,
        install_direct_dynamo_json,
        install_expression_cache,
        install_fast_query,
        install_light_transactions,
    )
    from localcloud.moto_events import (
        install_cached_jsonpath,
        install_complete_queue_events,
        install_light_event_delivery,
    )
    from localcloud.moto_memory import (
        install_bounded_deleted_receipts,
        install_bounded_streams,
        install_untracked_models,
    )
    from localcloud.moto_s3_post import install_post_policy
    from localcloud.moto_sqs import install_fast_sqs

    return_big_buffers()
    if os.environ.get("EDU_MOTO_DISPATCH_CACHE", "1") != "0":
        install_dispatch_cache()
    if os.environ.get("EDU_MOTO_TRACK_MODELS", "0") != "1":  # "1": moto's own (compare)
        install_untracked_models()
    install_fast_query()
    install_light_transactions()
    install_atomic_writes()  # after: it wraps the lighter transaction too
    if os.environ.get("EDU_MOTO_QUEUE_FIXES", "1") != "0":  # "0": compare in moto_bench.py
        install_fast_sqs()
        install_cached_jsonpath()
        install_cached_method_names()
    if os.environ.get("EDU_MOTO_EVENT_DELIVERY", "1") != "0":  # "0": moto's own PutEvents
        install_light_event_delivery()
    install_post_policy()
    install_complete_queue_events()
    install_bounded_streams()
    install_bounded_deleted_receipts()
    if os.environ.get("EDU_MOTO_EXPRESSION_CACHE", "1") != "0":  # "0": compare in moto_bench
        install_expression_cache()
    if os.environ.get("EDU_MOTO_CHEAP_IDS", "1") != "0":  # "0": compare in moto_bench.py
        install_cheap_ids()
    if os.environ.get("EDU_MOTO_DIRECT_JSON", "1") != "0":  # "0": compare in moto_bench.py
        install_direct_dynamo_json()
    if os.environ.get("EDU_MOTO_SERVER", "pooled") == "werkzeug":  # moto's own server
        from moto.server import main as moto_main

        moto_main()
        return
    import argparse

    parser = argparse.ArgumentParser(description="moto behind a pooled HTTP server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--state", type=Path, default=None,
                        help="directory that keeps what the endpoint holds across restarts "
                             "(default: memory only)")
    args = parser.parse_args()
    serve_pooled(args.host, args.port, args.threads, args.state)


if __name__ == "__main__":
    main()
