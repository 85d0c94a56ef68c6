"""The gateway's JWKS cache against a real HTTP issuer: concurrent requests share one fetch,
expired keys keep answering while the issuer is down, and made-up key ids cannot make every
request fetch again."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud.runtime.auth import JwksCache


class Issuer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.kids = ["k1"]
        self.fetches = 0  # JWKS documents served
        self.down = False
        self.delay_s = 0.0
        self.lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.kids:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if issuer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks.json"}
                else:
                    threading.Event().wait(issuer.delay_s)
                    with issuer.lock:
                        issuer.fetches += 1
                    body = issuer.jwks()
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    thread = threading.Thread(target=issuer.server.serve_forever, daemon=True)
    thread.start()
    yield issuer
    issuer.server.shutdown()


def test_concurrent_requests_share_one_fetch(issuer: Issuer) -> None:
    issuer.delay_s = 0.2
    cache = JwksCache()

    async def many() -> list[Any]:
        return await asyncio.gather(*(cache.key(issuer.url, "k1") for _ in range(50)))

    keys = asyncio.run(many())
    assert all(k is not None and k.key_id == "k1" for k in keys)
    assert issuer.fetches == 1


def test_expired_keys_answer_while_the_issuer_is_down_then_refresh(issuer: Issuer) -> None:
    cache = JwksCache(ttl_s=0.05, retry_s=0.05)

    async def scenario() -> None:
        first = await cache.key(issuer.url, "k1")
        assert first is not None
        await asyncio.sleep(0.1)
        issuer.down = True
        for _ in range(5):  # expired, the refresh fails: the keys we have still verify
            assert await cache.key(issuer.url, "k1") is first
            await asyncio.sleep(0.06)
        issuer.down = False
        issuer.kids = ["k1", "k2"]
        assert await cache.key(issuer.url, "k1") is first  # answered now, refreshed behind
        for _ in range(50):
            await asyncio.sleep(0.02)
            if await cache.key(issuer.url, "k1") is not first:
                break
        fresh = await cache.key(issuer.url, "k1")
        assert fresh is not None and fresh is not first

    asyncio.run(scenario())
    assert issuer.fetches >= 2


def test_made_up_key_ids_do_not_fetch_on_every_request(issuer: Issuer) -> None:
    cache = JwksCache(retry_s=60)

    async def scenario() -> None:
        assert await cache.key(issuer.url, "k1") is not None
        for n in range(20):
            assert await cache.key(issuer.url, f"forged-{n}") is None
        assert await cache.key(issuer.url, "k1") is not None

    asyncio.run(scenario())
    assert issuer.fetches == 1


def test_a_rotated_key_is_fetched_when_a_token_names_it(issuer: Issuer) -> None:
    cache = JwksCache(retry_s=0)

    async def scenario() -> None:
        assert await cache.key(issuer.url, "k2") is None
        issuer.kids = ["k1", "k2"]
        rotated = await cache.key(issuer.url, "k2")
        assert rotated is not None and rotated.key_id == "k2"

    asyncio.run(scenario())
    assert issuer.fetches == 2
