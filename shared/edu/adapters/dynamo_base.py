"""pynamodb models for our single-table designs: every item has `pk` and `sk`.

pynamodb fixes a model's table at class creation, and the table name, endpoint and region
come from settings, so item models are declared inside a factory on a base from here.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model


def keyed_base(table_: str, host_: str | None, region_: str) -> type[Model]:
    """A model base bound to one table, with its `pk` (hash) and `sk` (range) keys."""

    class Keyed(Model):
        class Meta:
            table_name = table_
            host = host_
            region = region_

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    return Keyed
