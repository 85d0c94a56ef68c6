import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from pydantic import ValidationError

from edu.auth.tokens import JwtIssuer, KeySet, rotated
from edu.errors import Unauthorized
from edu.events import MalformedEvent, make_event
from edu.events.schemas import render_all
from edu.guards import caller
from edu.http import Request
from edu.identity.models import RegisterIn, User
from edu.identity.service import password_problems
from tests.support.http_events import http_event

USER = User(id="u1", email="a@example.com", full_name="A", role="teacher", password_hash="x",
            created_at=datetime.now(UTC), is_verified=True)


def test_email_is_normalised_and_roles_are_closed() -> None:
    body = RegisterIn(email="  Ada@Example.COM ", password="x" * 12, full_name=" Ada  L ",
                      role="student")
    assert body.email == "ada@example.com" and body.full_name == "Ada L"
    with pytest.raises(ValidationError):
        RegisterIn(email="a@example.com", password="x" * 12, full_name="A", role="admin")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        RegisterIn(email="a@example.com", password="x" * 9, full_name="A", role="student")


def test_password_rules() -> None:
    assert password_problems("password123", "a@b.com")
    assert password_problems("PASSWORD123", "a@b.com")  # case does not help
    assert password_problems("aaaaaaaaaaab", "a@b.com")  # too few distinct characters
    assert password_problems("my-adalovelace-pw", "adalovelace@example.com")
    assert password_problems("correct horse battery staple", "a@b.com") == []


def test_tokens_verify_and_rotation_keeps_previous_key_valid() -> None:
    old_set = rotated({})
    old = JwtIssuer(KeySet.from_json(json.dumps(old_set)), "https://iss", "aud", 900)
    token, ttl = old.issue(USER, "fam-1")
    new = JwtIssuer(KeySet.from_json(json.dumps(rotated(old_set))), "https://iss", "aud", 900)
    claims = new.verify(token)  # signed before the rotation, still valid
    assert claims["sub"] == "u1" and claims["sid"] == "fam-1" and ttl == 900
    assert jwt.get_unverified_header(new.issue(USER, "f")[0])["kid"] != \
        jwt.get_unverified_header(token)["kid"]
    assert len(new.keys.jwks["keys"]) == 2
    three = KeySet.from_json(json.dumps(rotated(rotated(old_set))))
    assert len(three.keys) == 2  # only the signing key and its predecessor are kept


def test_token_checks_refuse_expired_wrong_audience_and_none() -> None:
    issuer = JwtIssuer(KeySet.from_json(json.dumps(rotated({}))), "https://iss", "aud", 900)
    token, _ = issuer.issue(USER, "f")
    other = JwtIssuer(issuer.keys, "https://iss", "other-aud", 900)
    with pytest.raises(jwt.InvalidAudienceError):
        other.verify(token)
    expired = JwtIssuer(issuer.keys, "https://iss", "aud", -10)
    with pytest.raises(jwt.ExpiredSignatureError):
        issuer.verify(expired.issue(USER, "f")[0])
    unsigned = jwt.encode({"sub": "u1", "exp": time.time() + 60}, None,  # type: ignore[arg-type]
                          algorithm="none")
    with pytest.raises(jwt.InvalidAlgorithmError):
        issuer.verify(unsigned)


def test_caller_reads_authorizer_claims() -> None:
    ev = http_event({})
    ev["requestContext"]["authorizer"] = {"jwt": {"claims": {
        "sub": "u1", "role": "teacher", "is_verified": "true", "sid": "f1"}}}
    who = caller(Request.from_event(ev))
    assert who.user_id == "u1" and who.is_verified is True and who.session_id == "f1"
    with pytest.raises(Unauthorized):
        caller(Request.from_event(http_event({})))


def test_events_are_checked_at_the_producer() -> None:
    ok = make_event("user.created", {"user_id": "u", "email": "e", "full_name": "n",
                                     "role": "student", "is_verified": False}, source="s")
    assert ok.type == "user.created" and ok.data["user_id"] == "u"
    with pytest.raises(MalformedEvent):
        make_event("user.created", {"user_id": "u"}, source="s")
    with pytest.raises(MalformedEvent):
        make_event("user.exploded", {}, source="s")


def test_event_schema_files_match_the_models() -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "events/schemas"
    for name, text in render_all().items():
        assert (folder / name).read_text() == text, \
            f"{name} is stale: run python -m edu.events.schemas"
