"""Stripe through its official SDK; the API base is a setting, so the local Stripe-compatible
server (localstripe) and real Stripe test mode differ only by configuration."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from edu.enrollment.ports import InvalidSignature


class StripeGateway:
    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None) -> None:
        self.api_key = api_key
        self.api_base = api_base
        self.webhook_secret = webhook_secret

    # The SDK (and httpx under it) is imported on first use: ~110 ms that free enrollments,
    # progress and listings, served by the same service, never need (docs/benchmarks/journal.md).
    @cached_property
    def _stripe(self) -> Any:
        import stripe

        return stripe

    @cached_property
    def client(self) -> Any:
        return self._stripe.StripeClient(self.api_key, base_addresses=(
            {"api": self.api_base.rstrip("/")} if self.api_base else {}), max_network_retries=2)

    def create_intent(self, amount: int, currency: str, metadata: dict[str, str],
                      idempotency_key: str) -> tuple[str, str]:
        # No card data passes through us: the client confirms with the client secret.
        intent = self.client.v1.payment_intents.create(
            params={"amount": amount, "currency": currency, "metadata": metadata},
            options={"idempotency_key": idempotency_key})
        return str(intent.id), str(intent.client_secret)

    def cancel_intent(self, provider_ref: str) -> bool:
        try:
            self.client.v1.payment_intents.cancel(provider_ref)
        except self._stripe.InvalidRequestError:  # succeeded or processing: not cancelable
            return False
        return True

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        import json

        try:
            self._stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, self.webhook_secret, tolerance=300)
        except (self._stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
            raise InvalidSignature from None
        event: dict[str, Any] = json.loads(payload)
        return event
