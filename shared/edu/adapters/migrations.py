"""Applies numbered SQL migrations (edu/migrations/NNNN_name.sql) once each, in order.

Each file runs in its own transaction together with its row in schema_migrations; an
advisory lock serialises concurrent runners. Re-running is a no-op. `edu db migrate` and
`edu up` run it locally; on AWS the DatabaseMigrations custom resource runs it on deploy (the
files ship in the shared layer).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"  # edu/migrations
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 0x6564_7500  # "edu\0": any constant shared by all runners


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case.sql")
        found.append(Migration(match.group(1), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {directory}")
    return found


def migrate(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Applies pending migrations; returns the names applied (empty when up to date)."""
    import psycopg

    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute("""create table if not exists schema_migrations (
                                version text primary key, name text not null,
                                checksum text not null,
                                applied_at timestamptz not null default now())""")
            done = {row[0]: row[1] for row in
                    conn.execute("select version, checksum from schema_migrations")}
            for m in migrations:
                if m.version in done:
                    if done[m.version] != m.checksum:
                        raise MigrationError(
                            f"{m.name} changed after it was applied; add a new migration "
                            "instead of editing an applied one")
                    continue
                with conn.transaction():
                    conn.execute(m.sql.encode())
                    conn.execute("insert into schema_migrations (version, name, checksum) "
                                 "values (%s, %s, %s)", (m.version, m.name, m.checksum))
                applied_now.append(m.name)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
