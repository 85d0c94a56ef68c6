"""The local Stripe server pays the way a browser does with Stripe.js: a card PaymentMethod
and the PaymentIntent's confirm, both with the publishable key; the confirm only with the
intent's client_secret. Stripe's decline test card declines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localcloud.stack import LocalCloud

CARD = {"type": "card", "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"}


def _post(cloud: LocalCloud, path: str, data: dict[str, str], *, secret: bool = False
          ) -> httpx.Response:
    auth = ("sk_test_local", "") if secret else None
    return httpx.post(f"{cloud.stripe_url}{path}", data=data, auth=auth, timeout=10)


def _intent(cloud: LocalCloud) -> dict[str, Any]:
    resp = _post(cloud, "/v1/payment_intents", {"amount": "1999", "currency": "usd"},
                 secret=True)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _card(cloud: LocalCloud, number: str) -> str:
    resp = _post(cloud, "/v1/payment_methods",
                 {**CARD, "card[number]": number, "key": "pk_test_local"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def test_a_browser_pays_with_the_publishable_key(cloud: LocalCloud) -> None:
    intent = _intent(cloud)
    confirm = _post(cloud, f"/v1/payment_intents/{intent['id']}/confirm", {
        "key": "pk_test_local", "client_secret": intent["client_secret"],
        "payment_method": _card(cloud, "4242424242424242")})
    assert confirm.status_code == 200, confirm.text
    assert confirm.json()["status"] == "succeeded"


@pytest.mark.parametrize("secret", [None, "pi_other_secret_xyz"])
def test_a_confirm_without_the_intents_client_secret_is_refused(cloud: LocalCloud,
                                                                 secret: str | None) -> None:
    intent = _intent(cloud)
    data = {"key": "pk_test_local", "payment_method": _card(cloud, "4242424242424242")}
    if secret is not None:
        data["client_secret"] = secret
    refused = _post(cloud, f"/v1/payment_intents/{intent['id']}/confirm", data)
    assert refused.status_code == 401
    fetched = httpx.get(f"{cloud.stripe_url}/v1/payment_intents/{intent['id']}",
                        auth=("sk_test_local", ""), timeout=10).json()
    assert fetched["status"] != "succeeded"


def test_the_publishable_key_opens_nothing_else(cloud: LocalCloud) -> None:
    listed = httpx.get(f"{cloud.stripe_url}/v1/payment_intents",
                       params={"key": "pk_test_local"}, timeout=10)
    assert listed.status_code == 401
    created = _post(cloud, "/v1/payment_intents",
                    {"amount": "100", "currency": "usd", "key": "pk_test_local"})
    assert created.status_code == 401


def test_the_decline_test_card_declines_then_a_good_card_pays(cloud: LocalCloud) -> None:
    intent = _intent(cloud)
    path = f"/v1/payment_intents/{intent['id']}/confirm"
    declined = _post(cloud, path, {"key": "pk_test_local",
                                   "client_secret": intent["client_secret"],
                                   "payment_method": _card(cloud, "4000000000000002")})
    assert declined.status_code == 402, declined.text
    assert declined.json()["error"]["code"] == "card_declined"
    paid = _post(cloud, path, {"key": "pk_test_local", "client_secret": intent["client_secret"],
                               "payment_method": _card(cloud, "4242424242424242")})
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
