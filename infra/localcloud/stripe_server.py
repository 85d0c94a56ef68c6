"""The local Stripe-compatible server (localstripe), bound to 127.0.0.1 only.

    python -m localcloud.stripe_server --port 8420 [--state FILE]

localstripe's own entry point listens on every interface and pickles its state to a shared
/tmp file after every write; here the state goes to --state (or nowhere), so parallel stacks
and test runs never see each other's objects.
"""

from __future__ import annotations

import argparse
import pickle
import re
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources

    state: Path | None = args.state

    def dump(store: resources.Store) -> None:
        if state is not None:
            tmp = state.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(state)

    resources.Store.dump_to_disk = dump
    _confirm_with_payment_method(resources)
    _declined_test_cards_decline_charges(resources)
    from localstripe import server  # routes are built at import: after the patches
    _publishable_key_calls(server)
    if state is not None and state.exists():
        resources.store.update(pickle.loads(state.read_bytes()))
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None,
                print=None)


def _confirm_with_payment_method(resources: Any) -> None:
    """Real Stripe lets the client confirm a PaymentIntent with its payment method
    (`confirm(pi, payment_method=..., client_secret=...)`), which is how a browser pays;
    localstripe answers "Not implemented". Checking the client_secret and attaching the
    method first, then its own confirm, closes the gap."""
    intent_cls = resources.PaymentIntent
    original = intent_cls._api_confirm.__func__

    def confirm(cls: Any, id: str, payment_method: str | None = None,
                client_secret: str | None = None, **kwargs: Any) -> Any:
        # a browser's confirm (publishable key) must name the intent's own client_secret
        if client_secret is not None and client_secret != cls._api_retrieve(id).client_secret:
            raise resources.UserError(401, "Unauthorized")
        if payment_method is not None:
            intent = cls._api_retrieve(id)
            resources.PaymentMethod._api_retrieve(payment_method)  # 404 for unknown ones
            if intent.status in ("requires_payment_method", "requires_confirmation"):
                intent.payment_method = payment_method
                intent.latest_charge = None
        return original(cls, id, **kwargs)

    intent_cls._api_confirm = classmethod(confirm)
    resources.extra_apis[:] = [
        (method, url, intent_cls._api_confirm if url.endswith("/payment_intents/{id}/confirm")
         else func) for method, url, func in resources.extra_apis]


def _declined_test_cards_decline_charges(resources: Any) -> None:
    """Stripe's decline test cards (4000 0000 0000 0002 and friends) decline every charge;
    localstripe declines them only when attached to a customer, so a PaymentIntent paid
    with one succeeded. Here a card declined on attach is declined on charge too."""
    method_cls = resources.PaymentMethod
    original = method_cls._charging_is_declined

    def declined(self: Any) -> bool:
        return bool(original(self) or self._attaching_is_declined())

    method_cls._charging_is_declined = declined


# Stripe.js calls these with the publishable key, from the buyer's browser.
_PUBLISHABLE_PATHS = re.compile(r"^/v1/(payment_methods|payment_intents/\w+/confirm)$")


def _publishable_key_calls(server: Any) -> None:
    """A browser pays the way Stripe.js does: it creates a card PaymentMethod, then confirms
    the PaymentIntent with its client_secret, both with the publishable key (`key=pk_...`).
    localstripe accepts the publishable key only for tokens and sources; this admits the two
    calls above, the confirm only with a client_secret (which `_confirm_with_payment_method`
    checks against the intent's)."""
    from aiohttp import web

    original = server.auth_middleware

    @web.middleware
    async def auth(request: Any, handler: Any) -> Any:
        if request.method == "POST" and _PUBLISHABLE_PATHS.match(request.path):
            data = await server.get_post_data(request, remove_auth=False) or {}
            key, secret = data.get("key"), data.get("client_secret")
            confirming = request.path.endswith("/confirm")
            if (isinstance(key, str) and key.startswith("pk_")
                    and (not confirming or (isinstance(secret, str) and secret))):
                return await handler(request)
        return await original(request, handler)

    middlewares = server.app.middlewares
    middlewares[middlewares.index(original)] = auth


if __name__ == "__main__":
    main()
