"""Calls to a local AWS stand-in (moto, LocalStack) carry a placeholder SigV4 signature.

Both read the region and the access key from the credential scope of a request's
Authorization header and never check the signature itself; computing it (a canonical
request and five HMACs) took ~11% of the SDK's CPU per DynamoDB call, and the write
functions spend most of their time in the SDK (docs/benchmarks/journal.md). Only for endpoints on
this machine: against AWS every client signs as always. S3 (`s3v4`) and presigned URLs keep
real signatures: browsers and ffmpeg use those URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

PLACEHOLDER_SIGNATURE_VERSION = "edu-local-v4"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_local_endpoint(endpoint_url: str | None) -> bool:
    if not endpoint_url:
        return False
    return (urlsplit(endpoint_url).hostname or "") in LOOPBACK_HOSTS


def sign_locally_with_placeholders(client: Any, endpoint_url: str | None,
                                   enabled: bool) -> None:
    """Placeholder signatures for a client of an endpoint on this machine, when `enabled`
    (the `EDU_AWS_PLACEHOLDER_SIGNATURE` setting); S3 clients keep real signatures."""
    if (enabled and is_local_endpoint(endpoint_url)
            and client.meta.service_model.service_name != "s3"):
        use_placeholder_signature(client)


def use_placeholder_signature(client: Any) -> None:
    """Makes a botocore client send placeholder SigV4 signatures (see the module's doc)."""
    _register_signer()
    client.meta.events.register("choose-signer", _placeholder_for_v4)


def _placeholder_for_v4(signature_version: Any = None, **_: Any) -> str | None:
    # Only plain header signing; None leaves botocore's choice (s3v4, presigning) alone.
    return PLACEHOLDER_SIGNATURE_VERSION if signature_version == "v4" else None


def _register_signer() -> None:
    import botocore.auth

    if PLACEHOLDER_SIGNATURE_VERSION not in botocore.auth.AUTH_TYPE_MAPS:
        botocore.auth.AUTH_TYPE_MAPS[PLACEHOLDER_SIGNATURE_VERSION] = _placeholder_signer()


def _placeholder_signer() -> type:
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
    from botocore.compat import get_current_datetime
    from botocore.exceptions import NoCredentialsError

    class PlaceholderSigV4Auth(SigV4Auth):
        """SigV4's headers (date, token, credential scope) with a signature of zeros."""

        def add_auth(self, request: Any) -> None:
            if self.credentials is None:
                raise NoCredentialsError()
            request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
            self._modify_request_before_signing(request)  # type: ignore[attr-defined]
            request.headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential={self.scope(request)}, "
                f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}")

    return PlaceholderSigV4Auth
