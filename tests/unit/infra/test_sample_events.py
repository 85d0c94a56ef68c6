"""`edu local generate-event`: every sample event passes Powertools' parser model of its AWS
service (an independent statement of the shapes), names come from the template, and wrong
services, events or flags are refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SnsModel,
    SqsModel,
)

from localcloud.sample_events import EVENTS, generate
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]
SAM_APPS = ROOT / "tests/fixtures/sam_apps"

CASES: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("http_api", "apigateway", "http-api-proxy", {"path": "/greet/ada"},
     APIGatewayProxyEventV2Model),
    ("rest_dynamodb", "apigateway", "aws-proxy",
     {"method": "PUT", "path": "/items/i-1", "body": '{"title": "x"}'},
     APIGatewayProxyEventModel),
    ("s3_chain", "s3", "put", {"bucket": "SourceBucket", "key": "a/b.txt"}, S3Model),
    ("s3_chain", "s3", "delete", {"bucket": "SourceBucket"}, S3Model),
    ("sqs_filters", "sqs", "receive-message", {"queue": "OrdersQueue", "body": "{}"}, SqsModel),
    ("sqs_filters", "sns", "notification", {"message": "hi"}, SnsModel),
    ("eventbridge", "eventbridge", "scheduled-event", {}, EventBridgeModel),
    ("eventbridge", "eventbridge", "custom",
     {"source": "shop.orders", "detail-type": "OrderPlaced", "detail": '{"order_id": "o"}'},
     EventBridgeModel),
    ("eventbridge", "dynamodb", "update", {"table": "SeenTable"}, DynamoDBStreamModel),
]


def test_every_event_has_a_case() -> None:
    assert {(s, e) for _app, s, e, _o, _m in CASES} == {
        (service, event) for service, events in EVENTS.items() for event in events}


@pytest.mark.parametrize(("app", "service", "event", "options", "model"), CASES,
                         ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_events_have_the_services_shape(app: str, service: str, event: str,
                                        options: dict[str, str], model: Any) -> None:
    template = load_template(SAM_APPS / app / "template.yaml", stack_name="sam-app")
    generated = generate(template, service, event, options)
    model.model_validate(json.loads(json.dumps(generated)))  # as `-e -` would read it


def test_names_and_routes_come_from_the_template() -> None:
    s3 = generate(load_template(SAM_APPS / "s3_chain/template.yaml", stack_name="sam-app"),
                  "s3", "put", {"bucket": "SourceBucket", "key": "k"})
    assert s3["Records"][0]["s3"]["bucket"]["name"] == "sam-app-sourcebucket"
    api = generate(load_template(SAM_APPS / "rest_dynamodb/template.yaml"), "apigateway",
                   "aws-proxy", {"path": "/items/i-9"})
    assert api["resource"] == "/items/{id}" and api["pathParameters"] == {"id": "i-9"}


def test_mistakes_are_named() -> None:
    template = load_template(SAM_APPS / "http_api/template.yaml")
    with pytest.raises(ValueError, match="unknown service 'kinesis'"):
        generate(template, "kinesis", "put", {})
    with pytest.raises(ValueError, match="unknown s3 event 'copy'"):
        generate(template, "s3", "copy", {})
    with pytest.raises(ValueError, match="not --colour"):
        generate(template, "s3", "put", {"colour": "red"})
    with pytest.raises(ValueError, match=r"no HTTP API route .* GET /nowhere .*GET /greet"):
        generate(template, "apigateway", "http-api-proxy", {"path": "/nowhere"})
