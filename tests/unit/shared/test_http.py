import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

from edu.errors import Conflict, RateLimited, Unauthorized
from edu.http import LambdaResponse, Request, endpoint, json_response
from tests.support.http_events import http_event as event


class Body(BaseModel):
    name: str = Field(min_length=1)
    count: int


@endpoint
def create(request: Request) -> LambdaResponse:
    body = request.json_body(Body)
    return json_response(201, {"name": body.name, "count": body.count})


def problem(resp: LambdaResponse) -> dict[str, Any]:
    assert resp["headers"]["content-type"] == "application/problem+json"
    data: dict[str, Any] = json.loads(resp["body"])
    assert {"type", "title", "status", "detail"} <= data.keys()
    assert data["status"] == resp["statusCode"]
    return data


def test_valid_body_reaches_the_handler() -> None:
    resp = create(event({"name": "x", "count": 2}), None)
    assert resp["statusCode"] == 201
    assert json.loads(resp["body"]) == {"name": "x", "count": 2}


def test_base64_body_is_decoded() -> None:
    resp = create(event({"name": "y", "count": 1}, b64=True), None)
    assert resp["statusCode"] == 201


def test_malformed_json_is_400() -> None:
    resp = create(event(raw="{not json"), None)
    assert resp["statusCode"] == 400
    assert "not valid JSON" in problem(resp)["detail"]


def test_wrong_fields_are_422_with_field_errors() -> None:
    resp = create(event({"name": "", "count": "many"}), None)
    data = problem(resp)
    assert resp["statusCode"] == 422
    assert {e["field"] for e in data["errors"]} == {"name", "count"}


def test_missing_body_and_non_object_are_422() -> None:
    assert create(event(None), None)["statusCode"] == 422
    assert create(event([1, 2]), None)["statusCode"] == 422


def test_oversize_body_is_413() -> None:
    resp = create(event({"name": "x" * 70_000, "count": 1}), None)
    assert resp["statusCode"] == 413
    problem(resp)


def test_non_json_content_type_is_415() -> None:
    resp = create(event(raw="a=b", headers={"content-type": "application/x-www-form-urlencoded"}),
                  None)
    assert resp["statusCode"] == 415


def test_domain_errors_keep_their_status_and_headers() -> None:
    @endpoint
    def limited(request: Request) -> LambdaResponse:
        raise RateLimited(retry_after=7)

    @endpoint
    def needs_login(request: Request) -> LambdaResponse:
        raise Unauthorized(error="invalid_token")

    @endpoint
    def clash(request: Request) -> LambdaResponse:
        raise Conflict("email already registered")

    resp = limited(event({}), None)
    assert resp["statusCode"] == 429 and resp["headers"]["Retry-After"] == "7"
    resp = needs_login(event({}), None)
    assert resp["headers"]["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    resp = clash(event({}), None)
    assert problem(resp)["detail"] == "email already registered"


def test_unexpected_exception_is_a_500_problem_without_internals() -> None:
    class Ctx:
        aws_request_id = "abc-123"

    @endpoint
    def broken(request: Request) -> LambdaResponse:
        raise RuntimeError("secret connection string postgres://u:p@h")

    resp = broken(event({}), Ctx())
    data = problem(resp)
    assert resp["statusCode"] == 500
    assert data["request_id"] == "abc-123"
    assert "secret" not in resp["body"]


def test_an_unreachable_store_is_a_503_with_retry_after() -> None:
    import psycopg
    import redis
    from botocore.exceptions import EndpointConnectionError

    failures: list[BaseException] = [
        psycopg.OperationalError("connection refused"),
        redis.exceptions.ConnectionError("Connection refused"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"),
    ]
    try:  # an adapter's own error raised *from* the SDK's
        raise ValueError("lookup failed") from psycopg.OperationalError("server closed")
    except ValueError as chained:
        failures.append(chained)
    for failure in failures:
        @endpoint
        def down(request: Request, failure: BaseException = failure) -> LambdaResponse:
            raise failure

        resp = down(event({}), None)
        assert resp["statusCode"] == 503, failure
        assert resp["headers"]["Retry-After"] == "5"
        assert problem(resp)["type"].endswith("dependency-unavailable")
        assert "refused" not in resp["body"]  # the cause is logged, not shown


def test_query_params_are_validated() -> None:
    class Page(BaseModel):
        limit: int = Field(20, ge=1, le=100)

    ev = event(None)
    ev["queryStringParameters"] = {"limit": "500"}
    req = Request.from_event(ev)
    with pytest.raises(Exception) as err:
        req.query_params(Page)
    assert getattr(err.value, "status", None) == 422


def test_log_lines_carry_request_and_correlation_ids(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    import sys

    from edu import observability
    from edu.observability import get_logger

    # A logger built by an earlier test writes to that test's captured stdout: start fresh,
    # and point the (shared, stdlib-level) handler at this test's stdout.
    get_logger.cache_clear()
    observability._created = False
    get_logger().registered_handler.setStream(sys.stdout)  # type: ignore[attr-defined]

    class Ctx:
        aws_request_id = "req-42"

    @endpoint
    def noisy(request: Request) -> LambdaResponse:
        get_logger().info("did something")
        return json_response(200, {})

    noisy(event({}, headers={"x-correlation-id": "corr-7"}), Ctx())
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "did something"
    assert line["request_id"] == "req-42" and line["correlation_id"] == "corr-7"


def test_if_match_names_a_version_or_is_a_412() -> None:
    from edu.errors import PreconditionFailed
    from edu.http import etag, version_from_if_match

    assert version_from_if_match(etag(7)) == 7
    assert version_from_if_match('W/"v12"') == 12
    assert version_from_if_match(None) is None and version_from_if_match(" * ") is None
    for bad in ('"version-2"', '"v"', "v1x", '"7"'):
        with pytest.raises(PreconditionFailed, match="If-Match must be an ETag"):
            version_from_if_match(bad)
