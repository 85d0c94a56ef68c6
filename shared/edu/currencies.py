"""The currencies a course may be priced in: those the payment provider (Stripe) charges in,
each with the smallest charge it accepts, in minor units. One list for validation and docs;
a price is 0 (free) or at least its currency's minimum."""

from __future__ import annotations

# Stripe's minimum charge amounts (docs: "Minimum and maximum charge amounts").
MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "nzd": 50,
    "sgd": 50, "hkd": 400, "jpy": 50, "sek": 300, "nok": 300, "dkk": 250, "pln": 200,
    "czk": 1500, "huf": 17500, "mxn": 1000, "brl": 50, "inr": 50, "ron": 200, "bgn": 100,
    "thb": 1000, "aed": 200, "myr": 200,
}


def price_problem(amount: int, currency: str) -> str | None:
    """Why a price cannot be charged, or None when it can (or is free)."""
    minimum = MINIMUM_CHARGE.get(currency)
    if minimum is None:
        return (f"'{currency}' is not a currency payments are taken in; use one of "
                f"{', '.join(sorted(MINIMUM_CHARGE))}")
    if 0 < amount < minimum:
        return f"the smallest {currency} price is {minimum} (minor units); 0 is free"
    return None
