"""The deployment's secrets and public URLs, as functions use them.

On a deployed stack they come from Secrets Manager and SSM Parameter Store, read once per
container when first needed (edu.adapters.registry): the signing secret (random, made by
CloudFormation) from which the cursor and playback keys are derived, the integrations secret
(Stripe and Meilisearch credentials, given at deploy), and the public URLs parameter (the
token issuer and the API's base URL, which CloudFormation derives from the APIs or a custom
domain). Without those ids (local tools, in-process tests) the settings' own values are used,
and they may be the local placeholders only on the local and test stages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from edu.config import Settings

LOCAL_STAGES = ("local", "test")
# Values the local stack uses; a deployed stage refuses them.
LOCAL_PLACEHOLDERS = frozenset({"sk_test_local", "whsec_local", "local-cursor-secret",
                                "local-playback-secret"})


class DeploymentConfigError(RuntimeError):
    """A deployed function found a secret or URL it must not run with."""


@dataclass(frozen=True)
class SigningKeys:
    cursor_secret: str
    playback_secret: str


@dataclass(frozen=True)
class Integrations:
    stripe_secret_key: str
    stripe_webhook_secret: str
    meili_api_key: str


@dataclass(frozen=True)
class PublicUrls:
    issuer: str   # what tokens' `iss` says and where the JWT authorizer finds the keys
    api_url: str  # the HTTP API's base URL, for links in mails and playlists


def derived_key(master: str, purpose: str) -> str:
    """A key for one purpose from the signing secret (HMAC-SHA256 as a KDF): one generated
    secret serves several signers without one's key revealing another's."""
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def signing_keys_from(settings: Settings, master: str | None) -> SigningKeys:
    keys = (SigningKeys(derived_key(master, "cursor"), derived_key(master, "playback"))
            if master else SigningKeys(settings.cursor_secret, settings.playback_secret))
    _refuse_placeholders(settings.stage, vars(keys))
    return keys


def integrations_from(settings: Settings, secret_json: str | None) -> Integrations:
    given = json.loads(secret_json) if secret_json else {}
    found = Integrations(
        stripe_secret_key=str(given.get("stripe_secret_key", settings.stripe_secret_key)),
        stripe_webhook_secret=str(given.get("stripe_webhook_secret",
                                            settings.stripe_webhook_secret)),
        meili_api_key=str(given.get("meili_api_key", settings.meili_api_key)))
    _refuse_placeholders(settings.stage, vars(found))
    if settings.stage not in LOCAL_STAGES:
        if not found.stripe_webhook_secret.startswith("whsec_"):
            raise DeploymentConfigError("the Stripe webhook secret must be a whsec_ value")
        if settings.stage == "prod" and found.stripe_secret_key.startswith(
                ("sk_test_", "rk_test_")):
            raise DeploymentConfigError("stage 'prod' refuses a Stripe test-mode key")
    return found


def _refuse_placeholders(stage: str, values: dict[str, str]) -> None:
    local = sorted(name for name, value in values.items() if value in LOCAL_PLACEHOLDERS)
    if stage not in LOCAL_STAGES and local:
        raise DeploymentConfigError(
            f"stage {stage!r} refuses the local placeholder values of {', '.join(local)}: "
            "give real ones at deploy (README, Deploying to AWS)")


def urls_from(settings: Settings, parameter_json: str | None) -> PublicUrls:
    given = json.loads(parameter_json) if parameter_json else {}
    urls = PublicUrls(issuer=str(given.get("issuer", settings.jwt_issuer)).rstrip("/"),
                      api_url=str(given.get("api_url", settings.jwt_issuer)).rstrip("/"))
    if settings.stage not in LOCAL_STAGES:
        for name, url in vars(urls).items():
            if not url.startswith("https://") or "127.0.0.1" in url or "localhost" in url:
                raise DeploymentConfigError(
                    f"stage {settings.stage!r} needs a public https {name}, not {url!r}")
    return urls


def database_url_from(settings: Settings, secret_json: str) -> str:
    """The database URL a secret holds: {"url"} (a DatabaseUrl given at deploy), or for the
    provisioned database a TLS URL to its proxy with the credentials RDS keeps in its managed
    secret ({"username", "password"}; rotated by RDS, read at cold start)."""
    from urllib.parse import quote

    login = json.loads(secret_json)
    if "url" in login:
        return str(login["url"])
    return (f"postgresql://{quote(login['username'], safe='')}:"
            f"{quote(login['password'], safe='')}@{settings.database_host}:5432/"
            f"{settings.database_name}?sslmode=require")
