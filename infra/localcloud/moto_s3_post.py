"""S3 browser-form uploads (POST policies) checked as S3 checks them: moto stored a form's
file whatever its policy said; real S3 refuses an expired policy, a field that breaks a
condition (a content type, a key prefix) and a file outside `content-length-range`, so an
upload form tested locally behaves as it will on AWS."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

# Form fields S3 does not require a policy condition for.
_UNCHECKED_FIELDS = {"policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"}


class PolicyViolation(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> str:
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                f"{self.code}</Code><Message>{escape(self.message)}</Message></Error>")


def _denied(message: str) -> PolicyViolation:
    return PolicyViolation(403, "AccessDenied", f"Invalid according to Policy: {message}")


def check_post_policy(form: Mapping[str, str], bucket: str, size: int,
                      now: datetime | None = None) -> None:
    """Raises PolicyViolation when a POST upload breaks its policy (S3's rules: expiration,
    exact and starts-with conditions on every field, content-length-range)."""
    try:
        policy = json.loads(base64.b64decode(form["policy"]))
        expires = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy.get("conditions") or [])
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        raise PolicyViolation(400, "InvalidPolicyDocument",
                              f"Invalid Policy: {exc}") from None
    if (now or datetime.now(UTC)) > expires:
        raise _denied("Policy expired.")
    fields = {k.lower(): v for k, v in form.items()}
    fields["bucket"] = bucket
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict):
            ops = [("eq", name, value) for name, value in condition.items()]
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                raise PolicyViolation(400, "EntityTooLarge",
                                      "Your proposed upload exceeds the maximum allowed size")
            if size < low:
                raise PolicyViolation(400, "EntityTooSmall",
                                      "Your proposed upload is smaller than the minimum "
                                      "allowed size")
            continue
        elif isinstance(condition, list) and len(condition) == 3:
            ops = [(str(condition[0]).lower(), str(condition[1]).lstrip("$"), condition[2])]
        else:
            raise PolicyViolation(400, "InvalidPolicyDocument",
                                  f"Invalid Policy: bad condition {condition!r}")
        for op, name, expected in ops:
            name = name.lower()
            covered.add(name)
            actual = fields.get(name, "")
            if op == "eq" and actual != str(expected):
                raise _denied(f'Policy Condition failed: ["eq", "${name}", "{expected}"]')
            if op == "starts-with" and not actual.startswith(str(expected)):
                raise _denied(
                    f'Policy Condition failed: ["starts-with", "${name}", "{expected}"]')
    extra = sorted(name for name in fields
                   if name not in covered and name not in _UNCHECKED_FIELDS
                   and not name.startswith("x-ignore-"))
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")


def install_post_policy() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def checked_post(self: Any, request: Any, bucket_name: str) -> Any:
        form = {k: v for k, v in (self.form_data or {}).items() if isinstance(v, str)}
        if "policy" in form and "key" in form:
            body = self.body if isinstance(self.body, bytes | str) else b""
            size = len(body.encode() if isinstance(body, str) else body)
            try:
                check_post_policy(form, bucket_name, size)
            except PolicyViolation as violation:
                return violation.status, {"Content-Type": "application/xml"}, violation.xml()
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = checked_post  # type: ignore[method-assign]
