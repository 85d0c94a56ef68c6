"""The platform for tests (started by tests/conftest.py): see localcloud.platform."""

from localcloud.platform import RunningPlatform, start_platform, stop_platform

__all__ = ["RunningPlatform", "start_platform", "stop_platform"]
