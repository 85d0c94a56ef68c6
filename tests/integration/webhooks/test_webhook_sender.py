"""The webhook sender connects to the address the URL check approved, not to whatever the
name resolves to when it sends (DNS rebinding), and turns any error into a failed attempt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edu.adapters.http_webhooks import UrllibWebhookSender


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hosts.append(self.headers["Host"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hosts
    server.shutdown()


def test_delivery_goes_to_the_approved_address(receiver: tuple[int, list[str]]) -> None:
    port, hosts = receiver
    # `.invalid` never resolves (RFC 2606): the request can only arrive through the pin
    url = f"http://hooks.rebind.invalid:{port}/edu"
    attempt = UrllibWebhookSender().post(url, b"{}", {"Content-Type": "application/json"},
                                         5.0, "127.0.0.1")
    assert attempt.status_code == 204 and attempt.error is None
    assert hosts == [f"hooks.rebind.invalid:{port}"]  # the URL's host still names the site


def test_any_error_is_a_failed_attempt(receiver: tuple[int, list[str]]) -> None:
    port, hosts = receiver
    sender = UrllibWebhookSender()
    broken = sender.post(f"http://127.0.0.1:{port}/a\r\nX-Injected: 1", b"{}", {}, 5.0,
                         "127.0.0.1")
    assert broken.status_code is None and broken.error
    refused = sender.post("http://127.0.0.1:1/hook", b"{}", {}, 5.0, "127.0.0.1")
    assert refused.status_code is None and refused.error
    assert hosts == []
