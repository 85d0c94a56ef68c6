"""The base of every local event source (`Trigger`: one event source of one function)
and what several kinds share: the internal queue names, partial batch responses."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from localcloud.runtime.invocation import InvokeResult
from localcloud.template import EventSource, Function

if TYPE_CHECKING:
    from localcloud.runtime.triggers import Triggers

LogSink = Callable[[str], None]
INTERNAL_PREFIX = "edu-local-"


POLL_WAIT_S = 1  # long-poll seconds: bounds how long a stop waits for a poller thread


def internal_queue_name(fn: Function, ev: EventSource, suffix: str = "") -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"{INTERNAL_PREFIX}{fn.name}-{ev.name}")
    if len(base) + len(suffix) > 80:  # SQS's limit: keep it unique with a short hash
        digest = hashlib.sha1(base.encode()).hexdigest()[:8]
        base = base[: 80 - len(suffix) - 9] + "-" + digest
    return base + suffix



def batch_failures(payload: Any, message_ids: set[str]) -> set[str] | None:
    """Failed message ids of a partial batch response; None when the response is invalid
    (then, as on AWS, the whole batch counts as failed)."""
    if payload is None or payload == {}:
        return set()
    if not isinstance(payload, dict) or "batchItemFailures" not in payload:
        return set()
    items = payload.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in message_ids:
            return None
        failed.add(str(ident))
    return failed


class Trigger:
    """One event source of one function."""

    def __init__(self, owner: Triggers, fn: Function, ev: EventSource) -> None:
        self.owner = owner
        self.fn = fn
        self.ev = ev
        self.sqs = owner.client("sqs")

    @property
    def label(self) -> str:
        return f"{self.fn.name}/{self.ev.name} ({self.ev.type})"

    async def setup(self) -> None:
        pass

    async def run(self) -> None:
        raise NotImplementedError

    async def blocking(self, call: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.owner.executor, call)

    async def invoke(self, event: Any) -> InvokeResult:
        return await self.owner.runtime.invoke(self.fn.name, event)


class RecordFilter:
    """An event source mapping's FilterCriteria: a record passes when any of its patterns
    (EventBridge's pattern syntax, moto's matcher) matches it, or when there are none. For
    SQS the body is matched as JSON when it is a JSON object, else as plain text, as on
    AWS."""

    def __init__(self, properties: dict[str, Any]) -> None:
        filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
        self.patterns: list[Any] = []
        if filters:
            from moto.events.models import EventPattern

            self.patterns = [EventPattern.load(str(f["Pattern"])) for f in filters]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def wanted(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(p.matches_event(record) for p in self.patterns)

    def wanted_message(self, record: dict[str, Any]) -> bool:
        """For an SQS record (its body as sent)."""
        if not self.patterns:
            return True
        body: Any = record.get("body", "")
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                body = parsed
        return self.wanted({**record, "body": body})
