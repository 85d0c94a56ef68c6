"""Consumers' idempotency records in either configured store (real Redis, moto DynamoDB):
a repeated event runs its effect once, another event runs it again, a failed run may be
retried, and the records land where the configuration says."""

import json
import uuid
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from edu.adapters.idempotency import persistence_layer
from edu.adapters.registry import Adapters
from edu.config import Settings
from localcloud.stack import LocalCloud


@pytest.fixture(params=["redis", "dynamodb"])
def adapters(request: pytest.FixtureRequest, cloud: LocalCloud, aws_env: dict[str, str]
             ) -> Iterator[Adapters]:
    store: Literal["redis", "dynamodb"] = request.param
    registry = Adapters(Settings(AWS_ENDPOINT_URL=cloud.aws_url, REDIS_URL=cloud.redis_url,
                                 EDU_IDEMPOTENCY_STORE=store))
    yield registry
    registry.close()


def once(adapters: Adapters, prefix: str, effect: Any) -> Any:
    @idempotent_function(data_keyword_argument="envelope",
                         persistence_store=persistence_layer(adapters),
                         config=IdempotencyConfig(event_key_jmespath="id",
                                                  expires_after_seconds=60),
                         key_prefix=prefix)
    def run(envelope: dict[str, Any]) -> str:
        return str(effect(envelope))

    return run


def test_a_repeated_event_runs_once_and_another_runs_again(adapters: Adapters) -> None:
    effects: list[str] = []
    run = once(adapters, f"test-{uuid.uuid4().hex}",
               lambda e: effects.append(e["id"]) or f"sent {e['id']}")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    assert run(envelope={"id": first}) == f"sent {first}"
    assert run(envelope={"id": first}) == f"sent {first}"  # the stored result, no effect
    assert run(envelope={"id": second}) == f"sent {second}"
    assert effects == [first, second]


def test_a_failed_run_leaves_no_record_and_may_be_retried(adapters: Adapters) -> None:
    attempts: list[str] = []

    def flaky(envelope: dict[str, Any]) -> str:
        attempts.append(envelope["id"])
        if len(attempts) == 1:
            raise RuntimeError("SES said no")
        return "sent"

    run = once(adapters, f"test-{uuid.uuid4().hex}", flaky)
    event_id = str(uuid.uuid4())
    with pytest.raises(RuntimeError):
        run(envelope={"id": event_id})
    assert run(envelope={"id": event_id}) == "sent"
    assert run(envelope={"id": event_id}) == "sent"
    assert attempts == [event_id, event_id]


def test_records_land_in_the_configured_store(adapters: Adapters) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    once(adapters, prefix, lambda e: "sent")(envelope={"id": str(uuid.uuid4())})
    settings = adapters.settings
    items = adapters.aws_client("dynamodb").scan(
        TableName=settings.idempotency_table,
        FilterExpression="begins_with(id, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}})["Items"]
    keys = list(adapters.redis().scan_iter(match=f"{prefix}*"))
    if settings.idempotency_store == "redis":
        assert items == [] and len(keys) == 1
        record = json.loads(adapters.redis().get(keys[0]) or b"{}")
        assert record["status"] == "COMPLETED"
        assert 0 < adapters.redis().ttl(keys[0]) <= 60
    else:
        assert keys == [] and len(items) == 1
        assert items[0]["status"]["S"] == "COMPLETED"
