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


def verified_teacher(api: str, admin_token: str) -> dict[str, Any]:
    """A teacher verified by an admin, with fresh tokens that carry is_verified=true."""
    teacher = register(api, role="teacher")
    tokens = login(api, teacher["email"])
    resp = httpx.post(f"{api}/teachers/me/verification", headers=bearer(tokens["access_token"]),
                      json={"bio": "Teaching software engineering for ten years.",
                            "link": "https://example.com/teacher"}, timeout=30)
    assert resp.status_code == 202, resp.text
    resp = httpx.post(f"{api}/admin/teachers/{teacher['id']}/verify",
                      headers=bearer(admin_token), timeout=30)
    assert resp.status_code == 200, resp.text
    return {**teacher, **login(api, teacher["email"])}
