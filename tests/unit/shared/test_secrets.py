"""Which secrets and URLs a stage accepts, and the keys derived from the signing secret."""

import json

import pytest

from edu.config import Settings
from edu.secrets import (
    DeploymentConfigError,
    database_url_from,
    derived_key,
    integrations_from,
    signing_keys_from,
    urls_from,
)

DEPLOYED = {"EDU_SIGNING_SECRET_ID": "s", "EDU_INTEGRATIONS_SECRET_ID": "i",
            "EDU_PUBLIC_URLS_PARAMETER": "/p", "EDU_DATABASE_SECRET_ID": "d"}


def settings(monkeypatch: pytest.MonkeyPatch, stage: str) -> Settings:
    monkeypatch.setenv("EDU_STAGE", stage)
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_each_purpose_gets_its_own_stable_key_from_the_signing_secret(
        monkeypatch: pytest.MonkeyPatch) -> None:
    keys = signing_keys_from(settings(monkeypatch, "prod"), "m" * 64)
    assert keys.cursor_secret == derived_key("m" * 64, "cursor")
    assert keys.cursor_secret != keys.playback_secret
    assert len(keys.cursor_secret) == 64
    assert signing_keys_from(settings(monkeypatch, "prod"), "n" * 64) != keys


def test_local_placeholders_serve_the_local_stage_only(monkeypatch: pytest.MonkeyPatch) -> None:
    local = settings(monkeypatch, "local")
    assert signing_keys_from(local, None).cursor_secret == "local-cursor-secret"
    assert integrations_from(local, None).stripe_secret_key == "sk_test_local"
    with pytest.raises(DeploymentConfigError, match="cursor_secret, playback_secret"):
        signing_keys_from(settings(monkeypatch, "dev"), None)
    with pytest.raises(DeploymentConfigError, match="stripe_secret_key"):
        integrations_from(settings(monkeypatch, "staging"), json.dumps(
            {"stripe_secret_key": "sk_test_local", "stripe_webhook_secret": "whsec_abc"}))


def test_production_takes_live_stripe_keys_only(monkeypatch: pytest.MonkeyPatch) -> None:
    given = {"stripe_secret_key": "sk_test_abc", "stripe_webhook_secret": "whsec_abc",
             "meili_api_key": ""}
    assert integrations_from(settings(monkeypatch, "staging"),
                             json.dumps(given)).stripe_secret_key == "sk_test_abc"
    with pytest.raises(DeploymentConfigError, match="test-mode"):
        integrations_from(settings(monkeypatch, "prod"), json.dumps(given))
    live = integrations_from(settings(monkeypatch, "prod"),
                             json.dumps({**given, "stripe_secret_key": "sk_live_abc"}))
    assert live.stripe_secret_key == "sk_live_abc"
    with pytest.raises(DeploymentConfigError, match="whsec_"):
        integrations_from(settings(monkeypatch, "dev"),
                          json.dumps({**given, "stripe_webhook_secret": "oops"}))


def test_deployed_urls_are_public_https(monkeypatch: pytest.MonkeyPatch) -> None:
    good = json.dumps({"issuer": "https://iss.example/", "api_url": "https://api.example"})
    urls = urls_from(settings(monkeypatch, "prod"), good)
    assert (urls.issuer, urls.api_url) == ("https://iss.example", "https://api.example")
    with pytest.raises(DeploymentConfigError, match="issuer"):
        urls_from(settings(monkeypatch, "prod"), json.dumps(
            {"issuer": "http://127.0.0.1:3000", "api_url": "https://api.example"}))
    assert urls_from(settings(monkeypatch, "local"), None).issuer == "http://127.0.0.1:3000"


def test_a_provisioned_database_is_reached_through_its_proxy_with_tls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDU_DATABASE_HOST", "edu-db.proxy-abc.us-east-1.rds.amazonaws.com")
    url = database_url_from(settings(monkeypatch, "prod"),
                            json.dumps({"username": "edu_admin", "password": "p@ss/w:rd?"}))
    assert url == ("postgresql://edu_admin:p%40ss%2Fw%3Ard%3F@edu-db.proxy-abc.us-east-1.rds."
                   "amazonaws.com:5432/edu?sslmode=require")
    given = "postgresql://edu:secret@db.example:5432/edu?sslmode=verify-full"
    assert database_url_from(settings(monkeypatch, "prod"), json.dumps({"url": given})) == given
