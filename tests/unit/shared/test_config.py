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


def test_a_deployed_stage_needs_the_stacks_secrets_and_urls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EDU_SIGNING_SECRET_ID", "EDU_INTEGRATIONS_SECRET_ID",
                 "EDU_PUBLIC_URLS_PARAMETER", "EDU_DATABASE_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDU_STAGE", "dev")
    with pytest.raises(ValidationError, match="signing_secret_id, integrations_secret_id, "
                                              "public_urls_parameter"):
        Settings()
    monkeypatch.setenv("EDU_SIGNING_SECRET_ID", "st/signing")
    monkeypatch.setenv("EDU_INTEGRATIONS_SECRET_ID", "st/integrations")
    monkeypatch.setenv("EDU_PUBLIC_URLS_PARAMETER", "/st/public-urls")
    with pytest.raises(ValidationError, match="database_secret_id"):
        Settings()
    monkeypatch.setenv("EDU_DATABASE_SECRET_ID", "st/database-url")
    assert Settings().stage == "dev"
