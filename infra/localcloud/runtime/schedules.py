"""Scheduled invocations: EventBridge schedule expressions (`rate(...)`, AWS `cron(...)`)
and the trigger that fires them."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud.intrinsics import ACCOUNT_ID
from localcloud.runtime.trigger import Trigger, internal_queue_name


class ScheduleTrigger(Trigger):
    async def setup(self) -> None:
        props = self.ev.properties
        expr = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
        self.schedule = parse_schedule(expr)
        enabled = props.get("Enabled", True)
        self.enabled = enabled and props.get("State", "ENABLED") != "DISABLED"
        self.input = props.get("Input")
        self.rule_arn = (f"arn:aws:events:{self.owner.template.region}:{ACCOUNT_ID}:rule/"
                         f"{internal_queue_name(self.fn, self.ev)}")

    async def run(self) -> None:
        if not self.enabled:
            return
        while True:
            now = datetime.now(UTC)
            due = self.schedule.next_after(now)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            if self.input is not None:
                event: Any = json.loads(self.input) if isinstance(self.input, str) else self.input
            else:
                event = {"version": "0", "id": str(uuid.uuid4()), "detail-type":
                         "Scheduled Event", "source": "aws.events", "account": ACCOUNT_ID,
                         "time": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "region": self.owner.template.region,
                         "resources": [self.rule_arn], "detail": {}}
            result = await self.invoke(event)
            self.owner.delivered(self, int(result.ok), int(not result.ok))


class Schedule:
    def next_after(self, now: datetime) -> datetime:
        raise NotImplementedError


class RateSchedule(Schedule):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = datetime.now(UTC)

    def next_after(self, now: datetime) -> datetime:
        elapsed = (now - self.start).total_seconds()
        periods = int(elapsed // self.seconds) + 1
        return self.start + timedelta(seconds=periods * self.seconds)


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Values a cron field allows; None for `?` / `*` (anything)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if step > 1 else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ValueError(f"cron field value out of range {lo}-{hi}: {text}")
        out.update(range(start, end + 1, step))
    return out


def _value(text: str, names: dict[str, int] | None) -> int:
    text = text.upper()
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"unsupported cron token {text!r} (L, W and # are not supported)")
    return int(text)


class CronSchedule(Schedule):
    """AWS cron: minutes hours day-of-month month day-of-week year (UTC)."""

    def __init__(self, expr: str) -> None:
        parts = expr.split()
        if len(parts) != 6:
            raise ValueError(f"cron({expr}) needs 6 fields")
        self.minutes = _field(parts[0], 0, 59)
        self.hours = _field(parts[1], 0, 23)
        self.dom = _field(parts[2], 1, 31)
        self.months = _field(parts[3], 1, 12, _MONTHS)
        self.dow = _field(parts[4], 1, 7, _DAYS)
        self.years = _field(parts[5], 1970, 2199)

    def matches(self, t: datetime) -> bool:
        aws_dow = (t.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        return all(allowed is None or value in allowed for allowed, value in (
            (self.minutes, t.minute), (self.hours, t.hour), (self.dom, t.day),
            (self.months, t.month), (self.dow, aws_dow), (self.years, t.year)))

    def next_after(self, now: datetime) -> datetime:
        t = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):  # a year of minutes at most
            if self.matches(t):
                return t
            t += timedelta(minutes=1)
        raise ValueError("cron expression never fires within a year")


def parse_schedule(expr: str) -> Schedule:
    m = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days|second|seconds)\)",
                     expr.strip())
    if m:
        unit = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
        return RateSchedule(int(m.group(1)) * unit)
    m = re.fullmatch(r"cron\((.+)\)", expr.strip())
    if m:
        return CronSchedule(m.group(1))
    raise ValueError(f"unsupported schedule expression {expr!r}")
