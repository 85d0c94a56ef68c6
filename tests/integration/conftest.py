"""A PostgreSQL pool on the session's database, shared by the integration tests."""

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from localcloud.stack import LocalCloud


@pytest.fixture(scope="module")
def pool(cloud: LocalCloud) -> Iterator[ConnectionPool]:
    with ConnectionPool(cloud.database_url, min_size=1, max_size=4) as p:
        yield p
