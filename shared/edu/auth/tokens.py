"""RS256 access tokens: a key set (newest signs, all verify), JWKS, issue and verify.

The key set is JSON, `{"keys": [{"kid", "private_key_pem", "created_at"}, ...]}` newest
first, kept in a Secrets Manager secret. Rotation prepends a new key and keeps the previous
one, so tokens signed before the rotation still verify until they expire.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from edu.identity.models import User

ALGORITHM = "RS256"
KEEP_KEYS = 2  # the signing key and the one before it


def generate_key() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"kid": uuid.uuid4().hex[:16], "private_key_pem": pem,
            "created_at": datetime.now(UTC).isoformat()}


def first_keyset(keyset: dict[str, Any]) -> dict[str, Any] | None:
    """The key set a new deployment starts with (one signing key), or None when `keyset`
    already has keys: those stay, so tokens issued with them keep verifying."""
    return None if keyset.get("keys") else rotated(keyset)


def rotated(keyset: dict[str, Any]) -> dict[str, Any]:
    """A new key set: a fresh signing key, the current one kept for verification."""
    return {"keys": [generate_key(), *keyset.get("keys", [])][:KEEP_KEYS]}


@dataclass(frozen=True)
class KeySet:
    keys: tuple[tuple[str, rsa.RSAPrivateKey], ...]

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        data = json.loads(text)
        keys = []
        for entry in data.get("keys", []):
            private = serialization.load_pem_private_key(entry["private_key_pem"].encode(),
                                                         password=None)
            if not isinstance(private, rsa.RSAPrivateKey):
                raise ValueError(f"key {entry.get('kid')} is not an RSA key")
            keys.append((str(entry["kid"]), private))
        if not keys:
            raise ValueError("the JWT key set has no keys")
        return cls(tuple(keys))

    @property
    def signing(self) -> tuple[str, rsa.RSAPrivateKey]:
        return self.keys[0]

    @cached_property
    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, private in self.keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
            jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
            out.append(jwk)
        return {"keys": out}

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        for key_id, private in self.keys:
            if key_id == kid:
                return private.public_key()
        return None


class JwtIssuer:
    """Implements identity's AccessTokens port."""

    def __init__(self, keys: KeySet, issuer: str, audience: str, ttl_s: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    def issue(self, user: User, family_id: str) -> tuple[str, int]:
        now = int(datetime.now(UTC).timestamp())
        kid, key = self.keys.signing
        claims = {"sub": user.id, "email": user.email, "role": user.role,
                  "is_verified": user.is_verified, "iss": self.issuer, "aud": self.audience,
                  "iat": now, "exp": now + self.ttl_s, "jti": uuid.uuid4().hex,
                  "sid": family_id}
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}), self.ttl_s

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a valid token; raises jwt.InvalidTokenError otherwise."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} not accepted")
        public = self.keys.public_key(str(header.get("kid")))
        if public is None:
            raise jwt.InvalidKeyError("unknown key id")
        claims: dict[str, Any] = jwt.decode(
            token, public, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]})
        return claims

    def openid_configuration(self) -> dict[str, Any]:
        return {"issuer": self.issuer,
                "jwks_uri": self.issuer.rstrip("/") + "/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "subject_types_supported": ["public"],
                "response_types_supported": ["token"]}
