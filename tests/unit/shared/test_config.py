import pytest
from pydantic import ValidationError

from edu.config import Settings


def test_settings_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDU_STAGE", "test")
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@h:1/db")
    settings = Settings()
    assert settings.stage == "test"
    assert settings.database_url == "postgresql://x@h:1/db"


def test_invalid_setting_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDU_STAGE", "moon")
    with pytest.raises(ValidationError):
        Settings()
