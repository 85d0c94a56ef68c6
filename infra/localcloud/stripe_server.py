"""The local Stripe-compatible server (localstripe), bound to 127.0.0.1 only.

    python -m localcloud.stripe_server --port 8420 [--state FILE]

localstripe's own entry point listens on every interface and pickles its state to a shared
/tmp file after every write; here the state goes to --state (or nowhere), so parallel stacks
and test runs never see each other's objects.
"""

from __future__ import annotations

import argparse
import pickle
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
    from localstripe import server  # routes are built at import: after the patches
    if state is not None and state.exists():
        resources.store.update(pickle.loads(state.read_bytes()))
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None,
                print=None)


def _confirm_with_payment_method(resources: Any) -> None:
    """Real Stripe lets the client confirm a PaymentIntent with its payment method
    (`confirm(pi, payment_method=...)`), which is how a browser pays; localstripe answers
    "Not implemented". Attaching the method first, then its own confirm, closes the gap."""
    intent_cls = resources.PaymentIntent
    original = intent_cls._api_confirm.__func__

    def confirm(cls: Any, id: str, payment_method: str | None = None, **kwargs: Any) -> Any:
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


if __name__ == "__main__":
    main()
