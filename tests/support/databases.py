"""Throwaway PostgreSQL databases beside the session's one (plan tests seed their own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from edu.adapters.migrations import migrate
from localcloud.backing import ensure_database


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlparse(url).path.lstrip("/")
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, migrated database on the server of `server_url`, dropped afterwards."""
    url = urlparse(server_url)._replace(path=f"/{prefix}_{uuid.uuid4().hex[:8]}").geturl()
    ensure_database(url)
    migrate(url)
    try:
        yield url
    finally:
        drop_database(url)
