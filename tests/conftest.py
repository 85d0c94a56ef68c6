"""Session fixtures that start the real local cloud once: moto, PostgreSQL, Redis.

Given DATABASE_URL / REDIS_URL / AWS_ENDPOINT_URL are used (PostgreSQL gets a throwaway
database on that server); otherwise embedded servers start on free ports under a temp dir.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from localcloud.config import CloudConfig
from localcloud.stack import LocalCloud
from tests.support.databases import drop_database
from tests.support.platform import RunningPlatform, start_platform, stop_platform

TEST_RETRY_BASE_S = 1  # the consumers' backoff base in the test session's stack
ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Markers follow the folder: tests/unit -> unit, tests/integration -> integration, ...
    for item in items:
        for kind in ("unit", "integration", "e2e"):
            if f"{os.sep}tests{os.sep}{kind}{os.sep}" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def cloud() -> Iterator[LocalCloud]:
    # Not under pytest's basetemp: every new pytest session chmods /tmp/pytest-of-<user>
    # to 0700, and the embedded PostgreSQL runs as the `postgres` account when we are root,
    # so a second pytest run on the machine would cut this session's server off its files.
    home = Path(tempfile.mkdtemp(prefix="edu-test-home-"))
    given_db = os.environ.get("DATABASE_URL")
    test_db = None
    if given_db:
        test_db = urlparse(given_db)._replace(
            path=f"/edu_test_{uuid.uuid4().hex[:8]}").geturl()
    cfg = CloudConfig.ephemeral(
        ROOT, home, aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        database_url=test_db, redis_url=os.environ.get("REDIS_URL") or None)
    # Consumers retry failed messages after 1 s, 2 s, 4 s, 8 s (10 s, 20 s ... by default;
    # 2 s if a consumer died) to keep tests quick.
    stack = LocalCloud(cfg, durable=False, overrides={
        "ConsumerVisibilityTimeout": "2", "ConsumerRetryBase": str(TEST_RETRY_BASE_S)})
    stack.start()
    try:
        stack.provision()  # with the platform's setup: migrations, keys, Stripe
        yield stack
    finally:
        stack.stop()
        if test_db:
            drop_database(test_db)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def aws_env(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment that points SDKs in this process at the local AWS endpoint."""
    env = cloud.function_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return env


@pytest.fixture(scope="session")
def platform(cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RunningPlatform]:
    """The project's functions behind the local API gateway (rate limits raised: the suite
    signs in many times from 127.0.0.1; the limits have their own tests). Failed transcodes
    are retried after 1 s instead of 30 s; webhook retries start at 1 s (not 60 s) and a
    webhook is disabled after 3 failed attempts in a row (not 20)."""
    running = start_platform(cloud, tmp_path_factory.mktemp("platform") / "runtime.log",
                             LoginLimitPerIp="100000", LoginLimitPerEmail="100000",
                             RegisterLimitPerIp="100000", TranscodeRetryDelay="1",
                             WebhookRetryBase="1", WebhookDisableAfter="3")
    yield running
    stop_platform(running)
