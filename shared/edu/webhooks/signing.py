"""Webhook signatures: `Edu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
"<t>.<raw body>" with the webhook's secret (docs/webhooks.md shows how to verify)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Edu-Signature"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
