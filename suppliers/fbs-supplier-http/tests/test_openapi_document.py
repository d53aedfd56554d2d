"""openapi.yaml is a valid OpenAPI 3.1 document whose examples and our fixtures obey it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from fbs_supplier_http.conformance import openapi_text

SPEC: dict[str, Any] = yaml.safe_load(openapi_text())
FIXTURES = Path(__file__).parent / "fixtures"
OPERATIONS = [
    (path, method, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method in {"get", "post"}
]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and len(node) == 1:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    # Local "#/components/..." references resolve against the document itself.
    validator = OAS31Validator({**schema, "components": SPEC["components"]})
    return [e.message for e in validator.iter_errors(value)]


def media_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    for path, method, op in OPERATIONS:
        bodies = [("request", op.get("requestBody", {}))] + [
            (status, resolve(resp)) for status, resp in op["responses"].items()
        ]
        for where, body in bodies:
            for media in resolve(body).get("content", {}).values():
                if "example" in media:
                    yield f"{method} {path} {where}", media["schema"], media["example"]
                for name, example in media.get("examples", {}).items():
                    value = resolve(example)["value"]
                    yield f"{method} {path} {where} {name}", media["schema"], value
    for name, response in SPEC["components"]["responses"].items():
        for media in response.get("content", {}).values():
            yield f"response {name}", media["schema"], media["example"]


def test_the_document_is_valid_openapi_3_1():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1")


@pytest.mark.parametrize(("where", "schema", "value"), list(media_examples()))
def test_every_example_obeys_its_schema(where, schema, value):
    assert schema_errors(schema, value) == [], where


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS)
def test_every_operation_documents_auth_rate_limit_and_errors(path, method, op):
    assert {"401", "429", "default"} <= set(op["responses"]), f"{method} {path}"
    assert op.get("description") or op.get("summary")


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("stock.json", "StockList"),
        ("purchase_order.json", "PurchaseOrder"),
        ("shipments_page.json", "ShipmentPage"),
        ("cancel_partial.json", "CancelResult"),
        ("error_insufficient_stock.json", "Error"),
    ],
)
def test_saved_answers_used_by_the_mapping_tests_obey_the_document(fixture, schema):
    value = json.loads((FIXTURES / fixture).read_text())
    assert schema_errors({"$ref": f"#/components/schemas/{schema}"}, value) == []
