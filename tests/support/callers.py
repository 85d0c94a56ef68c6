"""Callers for domain tests that call services directly (what the edge's guards produce)."""

from __future__ import annotations

from edu.auth.claims import Caller

TEACHER = Caller(user_id="t-1", email="t@example.com", role="teacher", is_verified=True,
                 session_id="s-t")
OTHER_TEACHER = Caller(user_id="t-2", email="o@example.com", role="teacher", is_verified=True,
                       session_id="s-o")
STUDENT = Caller(user_id="s-1", email="s@example.com", role="student", is_verified=False,
                 session_id="s-s")
