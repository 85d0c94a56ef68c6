"""Webhook delivery over HTTP (stdlib urllib: no client library in the cold start), the
resolver the SSRF guard uses, and the SQS queue that carries deliveries."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from edu.webhooks.models import Attempt

MAX_ERROR_CHARS = 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the failure it is for us: never followed (it could point
    at a private address the URL check never saw)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


def _pinned_opener(address: str) -> urllib.request.OpenerDirector:
    """An opener whose connections go to `address` whatever the URL's host resolves to
    now; TLS still verifies the certificate for the URL's host (SNI and Host stay)."""
    import http.client
    import ssl

    def pinned(base: type[http.client.HTTPConnection]) -> Any:
        class Pinned(base):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                create = self._create_connection  # type: ignore[has-type]

                def to_address(where: tuple[str, int], *rest: Any, **kw: Any) -> Any:
                    return create((address, where[1]), *rest, **kw)

                self._create_connection = to_address
        return Pinned

    https_connection = pinned(http.client.HTTPSConnection)
    http_connection = pinned(http.client.HTTPConnection)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(https_connection, req, context=ssl.create_default_context())

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(http_connection, req)

    return urllib.request.build_opener(_NoRedirects, Https, Http)


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(
        host, port, proto=socket.IPPROTO_TCP)})


def resolve_offline(host: str, port: int) -> list[str]:
    """The local stack's resolver: IP addresses and localhost only, so nothing a teacher
    (or a fuzzer) types makes the laptop query DNS servers."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        if host.lower() in ("localhost", "localhost."):
            return ["127.0.0.1", "::1"]
        raise OSError("the local stack resolves only localhost and IP addresses") from None


class UrllibWebhookSender:
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float,
             address: str) -> Attempt:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with _pinned_opener(address).open(request, timeout=timeout_s) as response:
                response.read(4096)
                return Attempt(status_code=response.status, error=None, duration_ms=took())
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            reason = f"redirect to {exc.headers.get('location', '?')} not followed" \
                if 300 <= exc.code < 400 else None
            return Attempt(status_code=exc.code, error=reason, duration_ms=took())
        except Exception as exc:  # any error is a failed attempt, recorded as one
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            error = str(cause) or type(cause).__name__
            return Attempt(status_code=None, error=error[:MAX_ERROR_CHARS],
                           duration_ms=took())


class SqsDeliveryQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def enqueue(self, delivery_ids: Sequence[str]) -> None:
        for start in range(0, len(delivery_ids), 10):
            batch = delivery_ids[start:start + 10]
            result = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "MessageBody": json.dumps({"delivery_id": d})}
                for n, d in enumerate(batch)])
            if result.get("Failed"):
                raise RuntimeError(f"could not queue webhook deliveries: {result['Failed']}")
