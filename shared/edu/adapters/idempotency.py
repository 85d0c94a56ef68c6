"""Where Powertools' idempotency utility keeps its records, chosen by configuration.

`redis` (the default): the platform's Redis, two round trips of a fraction of a millisecond
per record. `dynamodb`: the IdempotencyTable, a conditional PutItem and an UpdateItem per
record. A record only has to outlive redeliveries of its message, so Redis's weaker
durability costs at worst a repeated email after Redis lost its data while a retried message
was waiting (docs/decisions.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from edu.adapters.registry import Adapters


def persistence_layer(adapters: Adapters) -> BasePersistenceLayer:
    settings = adapters.settings
    if settings.idempotency_store == "redis":
        import warnings

        from aws_lambda_powertools.utilities.idempotency.persistence.cache import (
            CachePersistenceLayer,
        )

        with warnings.catch_warnings():
            # CachePersistenceLayer is the name Powertools asks for, but it is an alias of the
            # class its deprecation warning is about (Powertools 3.x).
            warnings.simplefilter("ignore", DeprecationWarning)
            # redis-py's set() takes more than Powertools' client protocol spells out
            return CachePersistenceLayer(client=adapters.redis())  # type: ignore[arg-type]
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table,
                                    boto3_client=adapters.aws_client("dynamodb"))
