"""The overload drill's load shape (run by `edu load --drill overload`): the student mix at
the gate's user count, then three times as many users for a while, then back.

EDU_DRILL_PHASES is a JSON list of [until_s, users, spawn_rate]: each phase holds `users`
until `until_s` seconds into the run; the run ends after the last phase.
"""

from __future__ import annotations

import json
import os

from locust import LoadTestShape
from locustfile import StudentUser

__all__ = ["OverloadShape", "StudentUser"]


class OverloadShape(LoadTestShape):
    phases: list[list[float]] = json.loads(os.environ.get("EDU_DRILL_PHASES", "[]"))

    def tick(self) -> tuple[int, float] | None:
        run_time = self.get_run_time()
        for until_s, users, rate in self.phases:
            if run_time < until_s:
                return int(users), float(rate)
        return None
