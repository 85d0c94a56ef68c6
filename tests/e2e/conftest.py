"""Fixtures for the e2e suites: an administrator and verified teachers, via the real API."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.platform_tasks import create_admin
from localcloud.stack import LocalCloud
from tests.support.identity import PASSWORD, login, new_email, verified_teacher
from tests.support.platform import RunningPlatform


@pytest.fixture(scope="session")
def admin_token(platform: RunningPlatform, cloud: LocalCloud) -> str:
    email = new_email("admin")
    create_admin(cloud, email, PASSWORD, "Admin")
    return str(login(platform.api, email)["access_token"])


@pytest.fixture
def teacher(platform: RunningPlatform, admin_token: str) -> dict[str, Any]:
    return verified_teacher(platform.api, admin_token)
