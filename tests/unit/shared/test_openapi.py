"""The OpenAPI document describes exactly template.yaml's HTTP routes, with valid schemas."""

from __future__ import annotations

import re
from pathlib import Path

from edu.openapi import OPERATIONS, openapi_document
from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]


def template_routes() -> set[tuple[str, str, str | None]]:
    template = load_template(ROOT / "template.yaml", endpoint="http://127.0.0.1:4566")
    return {(str(ev.properties["Method"]).upper(), str(ev.properties["Path"]),
             (ev.properties.get("Auth") or {}).get("Authorizer"))
            for fn in template.functions.values() for ev in fn.events if ev.type == "HttpApi"}


def test_operations_are_the_template_routes_with_their_authorizers() -> None:
    authorizer = {"none": None, "optional": None, "jwt": "EduJwt",
                  "teacher_api": "EduTeacherApi"}
    assert {(op.method, op.path, authorizer[op.auth]) for op in OPERATIONS} == \
        template_routes()


def test_every_reference_resolves_and_every_operation_is_unique() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    text = str(document)
    for ref in set(re.findall(r"#/components/schemas/([^'\"]+)", text)):
        assert ref in schemas, ref
    ids = [op["operationId"] for methods in document["paths"].values()
           for op in methods.values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
