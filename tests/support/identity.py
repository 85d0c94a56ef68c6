"""Helpers to get users and tokens through the public API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def register(api: str, *, role: str = "student", email: str | None = None,
             password: str = PASSWORD, full_name: str = "Ada Lovelace") -> dict[str, Any]:
    resp = httpx.post(f"{api}/auth/register", json={
        "email": email or new_email(role), "password": password, "full_name": full_name,
        "role": role}, timeout=30)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def login(api: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
    resp = httpx.post(f"{api}/auth/login", json={"email": email, "password": password},
                      timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
