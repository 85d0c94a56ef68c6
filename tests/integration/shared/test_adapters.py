"""The adapter registry builds working clients from settings alone."""

from collections.abc import Iterator

import pytest

from edu.adapters.registry import Adapters
from edu.config import Settings
from localcloud.stack import LocalCloud


@pytest.fixture
def adapters(cloud: LocalCloud, aws_env: dict[str, str]) -> Iterator[Adapters]:
    settings = Settings(AWS_ENDPOINT_URL=cloud.aws_url, DATABASE_URL=cloud.database_url,
                        REDIS_URL=cloud.redis_url)
    registry = Adapters(settings)
    yield registry
    registry.close()


def test_clients_reach_the_local_cloud(adapters: Adapters) -> None:
    tables = adapters.aws_client("dynamodb").list_tables()["TableNames"]
    assert adapters.settings.users_table in tables
    assert adapters.aws_client("dynamodb") is adapters.aws_client("dynamodb")  # built once
    with adapters.pg_pool().connection() as conn:
        assert conn.execute("select 41 + 1").fetchone() == (42,)
    assert adapters.redis().ping() is True
