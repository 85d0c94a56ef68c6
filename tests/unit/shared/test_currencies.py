"""Course prices: a currency the payment provider charges in, free or at least its minimum
charge (the probe priced a course in 'zzz', and at 1 cent)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edu.courses.models import CoursePatch


@pytest.mark.parametrize("amount,currency", [(0, "usd"), (50, "usd"), (1999, "eur"),
                                             (30, "gbp"), (0, "jpy")])
def test_chargeable_and_free_prices_are_accepted(amount: int, currency: str) -> None:
    patch = CoursePatch.model_validate({"price": {"amount": amount, "currency": currency}})
    assert patch.price is not None and patch.price.amount == amount


@pytest.mark.parametrize("amount,currency,says", [
    (1999, "zzz", "not a currency payments are taken in"),
    (1, "usd", "smallest usd price is 50"),
    (49, "usd", "smallest usd price is 50"),
    (29, "gbp", "smallest gbp price is 30"),
])
def test_unchargeable_prices_are_refused(amount: int, currency: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        CoursePatch.model_validate({"price": {"amount": amount, "currency": currency}})
