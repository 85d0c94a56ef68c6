"""Query-plan checks: record the SQL a repository runs, then EXPLAIN each statement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg

RECORDED: list[tuple[str, Any]] = []


class RecordingCursor(psycopg.Cursor[Any]):
    """Set as a pool's cursor_factory: every executed statement lands in RECORDED."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        RECORDED.append((str(query), params))
        return super().execute(query, params, **kwargs)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def assert_no_seq_scans(conn: psycopg.Connection[Any], queries: list[tuple[str, Any]],
                        tables: set[str]) -> None:
    """No statement's plan reads any of `tables` sequentially."""
    for sql, params in queries:
        if sql.startswith(("SET ", "BEGIN", "COMMIT")):
            continue
        row = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
        assert row is not None
        (plan,) = row[0]
        scans = [n for n in plan_nodes(plan["Plan"])
                 if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in tables]
        assert not scans, f"sequential scan for:\n{sql}\n{json.dumps(plan, indent=1)[:3000]}"
