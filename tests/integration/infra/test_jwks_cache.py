"""The gateway's JWKS cache against a real HTTP issuer: concurrent requests share one fetch,
expired keys keep answering while the issuer is down, and made-up key ids cannot make every
request fetch again. The JWT authorizer's verified tokens: remembered only while within
their exp and while the key that verified them is still the issuer's."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud.runtime.auth import Authorizers, JwksCache


class Issuer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.kids = ["k1"]
        self.private: dict[str, rsa.RSAPrivateKey] = {}  # signing keys, made on first use
        self.fetches = 0  # JWKS documents served
        self.down = False
        self.delay_s = 0.0
        self.lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.kids:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signer(kid).public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def signer(self, kid: str) -> rsa.RSAPrivateKey:
        with self.lock:
            if kid not in self.private:
                self.private[kid] = rsa.generate_private_key(public_exponent=65537,
                                                             key_size=2048)
            return self.private[kid]

    def token(self, kid: str = "k1", ttl_s: float = 300, audience: str = "aud") -> str:
        now = time.time()
        return jwt.encode({"sub": "u1", "iss": self.url, "aud": audience, "iat": int(now),
                           "exp": now + ttl_s}, self.signer(kid), algorithm="RS256",
                          headers={"kid": kid})

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


def authorizers(issuer: Issuer, jwks_ttl_s: float = 300) -> Authorizers:
    spec = {"IdentitySource": "$request.header.Authorization",
            "JwtConfiguration": {"issuer": issuer.url, "audience": ["aud"]}}
    auth = Authorizers({"Authorizers": {"Jwt": spec}}, runtime=None,  # type: ignore[arg-type]
                       function_by_arn={})
    auth.jwks = JwksCache(ttl_s=jwks_ttl_s, retry_s=0)
    return auth


async def status(auth: Authorizers, token: str) -> int:
    decision = await auth.authorize("Jwt", [], {"authorization": f"Bearer {token}"}, {}, {})
    if decision.allowed:
        assert decision.context["jwt"]["claims"]["sub"] == "u1"
        return 200
    return decision.status


def test_a_remembered_token_is_refused_once_it_expires(issuer: Issuer) -> None:
    auth = authorizers(issuer)
    token = issuer.token(ttl_s=3.0)

    async def scenario() -> list[int]:
        answers = [await status(auth, token) for _ in range(3)]
        await asyncio.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})
                                ["exp"] - time.time()) + 0.05)
        return [*answers, await status(auth, token)]

    assert asyncio.run(scenario()) == [200, 200, 200, 401]


def test_a_remembered_token_is_refused_once_its_key_leaves_the_jwks(issuer: Issuer) -> None:
    auth = authorizers(issuer, jwks_ttl_s=0.05)
    token = issuer.token()

    async def scenario() -> list[int]:
        before = [await status(auth, token), await status(auth, token)]
        issuer.private.pop("k1")  # rotated: the JWKS now serves a new k1
        await asyncio.sleep(0.1)
        await status(auth, token)  # expired keys answer once more while they refresh
        for _ in range(50):
            await asyncio.sleep(0.02)
            if await status(auth, token) == 401:
                break
        return [*before, await status(auth, token), await status(auth, issuer.token())]

    assert asyncio.run(scenario()) == [200, 200, 401, 200]


def test_a_remembered_token_with_another_signature_or_audience_is_verified_anew(
        issuer: Issuer) -> None:
    auth = authorizers(issuer)
    token = issuer.token()
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-6]}AAAAAA"

    async def scenario() -> list[int]:
        return [await status(auth, token), await status(auth, forged),
                await status(auth, issuer.token(audience="other")), await status(auth, token)]

    assert asyncio.run(scenario()) == [200, 401, 401, 200]
