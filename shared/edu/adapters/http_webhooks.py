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


_opener = urllib.request.build_opener(_NoRedirects)


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
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float
             ) -> Attempt:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            with _opener.open(request, timeout=timeout_s) as response:
                response.read(4096)
                return Attempt(status_code=response.status, error=None, duration_ms=took())
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            reason = f"redirect to {exc.headers.get('location', '?')} not followed" \
                if 300 <= exc.code < 400 else None
            return Attempt(status_code=exc.code, error=reason, duration_ms=took())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return Attempt(status_code=None, error=str(cause)[:MAX_ERROR_CHARS],
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
