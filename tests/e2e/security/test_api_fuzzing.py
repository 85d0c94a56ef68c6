"""Schemathesis against the running gateway, driven by GET /openapi.json: a bounded number
of generated requests per operation, as anonymous, student, teacher and admin. Every answer
must be free of server errors, match its documented schema, and every 4xx from our
functions must be a problem document."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from edu.openapi import OPERATIONS
from tests.support.identity import login, register, verified_teacher
from tests.support.platform import RunningPlatform

EXAMPLES = int(os.environ.get("EDU_FUZZ_EXAMPLES", "8"))  # per operation and persona
GATEWAY_MESSAGES = {"Unauthorized", "Not Found", "Forbidden"}  # API Gateway's own answers


def problem_json_for_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """4xx answers are problem documents, except API Gateway's own refusals."""
    if 400 <= response.status_code < 500:
        ctype = response.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        if ctype.startswith("application/problem+json"):
            body = response.json()
            missing = {"type", "title", "status", "detail"} - set(body)
            assert not missing, f"problem document without {missing}: {body}"
            assert body["status"] == response.status_code
        else:
            assert response.json().get("message") in GATEWAY_MESSAGES, (
                f"{response.status_code} is not a problem document: {response.text[:300]}")
    return None


@pytest.fixture(scope="module")
def personas(platform: RunningPlatform, admin_token: str) -> dict[str, dict[str, str]]:
    student = login(platform.api, register(platform.api)["email"])["access_token"]
    teacher = verified_teacher(platform.api, admin_token)["access_token"]
    return {"anonymous": {}, "student": {"Authorization": f"Bearer {student}"},
            "teacher": {"Authorization": f"Bearer {teacher}"},
            "admin": {"Authorization": f"Bearer {admin_token}"}}


@pytest.fixture(scope="module")
def schema(platform: RunningPlatform) -> Any:
    document = httpx.get(f"{platform.api}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


def test_the_document_lists_every_operation(schema: Any) -> None:
    operations = [r.ok() for r in schema.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in operations} == {
        (op.method, op.path) for op in OPERATIONS}


# Logging out would end the personas' sessions halfway through the run.
SKIPPED = {("POST", "/auth/logout")}


FUZZED = [f"{op.method} {op.path}" for op in OPERATIONS if (op.method, op.path) not in SKIPPED]


def send_generated(platform: RunningPlatform, strategy: Any, examples: int,
                   callers: list[dict[str, str]], checks: list[Any]) -> None:
    """`examples` generated requests, each sent as every caller, each answer checked."""
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        for headers in callers:
            response = case.call(base_url=platform.api, headers=headers, timeout=30)
            case.validate_response(response, checks=checks)

    run()


def generated(schema: Any, operation: str) -> Any:
    method, path = operation.split(" ", 1)
    return schema[path][method.lower()].as_strategy()


@pytest.mark.parametrize("operation", FUZZED)
def test_fuzzed_requests_get_documented_answers(platform: RunningPlatform, schema: Any,
                                                personas: dict[str, dict[str, str]],
                                                operation: str) -> None:
    send_generated(platform, generated(schema, operation), EXAMPLES, list(personas.values()),
                   [not_a_server_error, response_schema_conformance, content_type_conformance,
                    problem_json_for_4xx])


def with_hostile_text(case: Any) -> Any:
    """The generated request with the shapes the adversarial probe found: a NUL byte in
    every string of the body and the query, and far-off dates for date parameters."""
    def poison(value: Any) -> Any:
        if isinstance(value, str):
            return value + "\x00"
        if isinstance(value, dict):
            return {k: poison(v) for k, v in value.items()}
        if isinstance(value, list):
            return [poison(v) for v in value]
        return value

    if isinstance(case.body, dict):
        case.body = poison(case.body)
    if case.query:
        case.query = {k: ("9999-12-31" if k in ("from", "to") else poison(v))
                      for k, v in case.query.items()}
    return case


@pytest.mark.parametrize("operation", FUZZED)
def test_hostile_text_never_causes_a_server_error(platform: RunningPlatform, schema: Any,
                                                  personas: dict[str, dict[str, str]],
                                                  operation: str) -> None:
    send_generated(platform, generated(schema, operation).map(with_hostile_text),
                   max(2, EXAMPLES // 4), [personas["anonymous"], personas["teacher"]],
                   [not_a_server_error, problem_json_for_4xx])
