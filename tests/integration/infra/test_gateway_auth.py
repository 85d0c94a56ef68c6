"""JWT and Lambda authorizers in front of routes, as API Gateway's HTTP API applies them."""

import time

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.infra.conftest import Issuer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_passes_and_claims_reach_the_handler(api: str, issuer: Issuer) -> None:
    resp = httpx.get(f"{api}/secure", headers=bearer(issuer.token(role="teacher",
                                                                   is_verified=True)))
    assert resp.status_code == 200, resp.text
    claims = resp.json()["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "user-1" and claims["role"] == "teacher"
    assert claims["is_verified"] == "true"  # API Gateway passes claims as strings


def test_missing_token_is_401(api: str) -> None:
    resp = httpx.get(f"{api}/secure")
    assert resp.status_code == 401 and resp.json() == {"message": "Unauthorized"}


def test_bad_tokens_are_401_invalid_token(api: str, issuer: Issuer) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode({"sub": "x", "iss": issuer.url, "aud": "edu-test", "exp": now + 60},
                        other_key, algorithm="RS256", headers={"kid": issuer.kid})
    unsigned = jwt.encode({"sub": "x", "iss": issuer.url, "aud": "edu-test", "exp": now + 60},
                          None, algorithm="none")  # type: ignore[arg-type]
    tampered = issuer.token()
    head, body, sig = tampered.split(".")
    tampered = ".".join([head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig])
    cases = {
        "expired": issuer.token(exp=now - 10, iat=now - 100),
        "wrong audience": issuer.token(aud="someone-else"),
        "wrong issuer": issuer.token(iss="http://evil.example"),
        "forged signature": forged,
        "alg none": unsigned,
        "tampered": tampered,
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        resp = httpx.get(f"{api}/secure", headers=bearer(token))
        assert resp.status_code == 401, name
        assert resp.headers["www-authenticate"].startswith('Bearer error="invalid_token"'), name


def test_missing_scope_is_403(api: str, issuer: Issuer) -> None:
    assert httpx.get(f"{api}/scoped", headers=bearer(issuer.token())).status_code == 403
    ok = httpx.get(f"{api}/scoped", headers=bearer(issuer.token(scope="read admin")))
    assert ok.status_code == 200


def test_lambda_authorizer_allows_denies_and_passes_context(api: str) -> None:
    assert httpx.get(f"{api}/custom").status_code == 401  # identity source missing
    denied = httpx.get(f"{api}/custom", headers={"Authorization": "nope"})
    assert denied.status_code == 403 and denied.json() == {"message": "Forbidden"}
    allowed = httpx.get(f"{api}/custom", headers={"Authorization": "letmein"})
    assert allowed.status_code == 200
    assert allowed.json()["authorizer"]["lambda"] == {"user": "u1", "route": "GET /custom"}
