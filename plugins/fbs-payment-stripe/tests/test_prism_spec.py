"""``python -m fbs_payment_stripe.prism_spec`` makes the contract tests' Prism-ready spec.

Run on Stripe's own ``spec3.yaml`` it writes, byte for byte, the ``spec3.prism-mock.json``
the contract tests serve, so an outside contributor can make it from a download.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from fbs_core.testing.specs import spec_file
from fbs_payment_stripe.prism_spec import main, prism_ready

TINY_SPEC = {
    "openapi": "3.0.0",
    "paths": {
        "/v1/things": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["amount"],
                                "properties": {
                                    "amount": {"type": "integer"},
                                    "required": {"type": "boolean"},
                                    "shipping": {
                                        "type": "object",
                                        "required": ["address"],
                                        "properties": {"address": {"type": "string"}},
                                    },
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/thing"}}
                        }
                    },
                    "default": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/error"}}
                        }
                    },
                },
            }
        }
    },
    "components": {
        "schemas": {
            "thing": {
                "type": "object",
                "properties": {"owner": {"$ref": "#/components/schemas/customer"}},
            },
            "customer": {"type": "object", "properties": {"x": {"type": "string"}}},
            "error": {
                "type": "object",
                "properties": {"error": {"$ref": "#/components/schemas/api_errors"}},
            },
            "api_errors": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "payment_intent": {"$ref": "#/components/schemas/thing"},
                },
            },
        },
        "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
    },
}


def test_nested_required_lists_go_and_refs_inside_schemas_are_cut():
    ready = prism_ready(TINY_SPEC)

    body = ready["paths"]["/v1/things"]["post"]["requestBody"]["content"]
    schema = body["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == ["amount"]  # the top level keeps its list
    assert "required" not in schema["properties"]["shipping"]
    assert schema["properties"]["required"] == {"type": "boolean"}  # a parameter named so
    schemas = ready["components"]["schemas"]
    assert sorted(schemas) == ["error", "thing"]  # only what the paths name
    assert schemas["thing"]["properties"]["owner"] == {
        "description": "cut for mocking: was #/components/schemas/customer"
    }
    assert schemas["error"]["properties"]["error"]["properties"]["payment_intent"] == {
        "description": "cut for mocking: was #/components/schemas/thing"
    }
    assert ready["components"]["securitySchemes"] == TINY_SPEC["components"]["securitySchemes"]
    assert TINY_SPEC["components"]["schemas"]["thing"]["properties"]["owner"] == {
        "$ref": "#/components/schemas/customer"
    }  # the input is left as it was


def test_from_stripes_spec3_yaml_it_writes_the_copy_the_contract_tests_serve(tmp_path):
    official = spec_file("stripe/spec3.yaml")
    served = spec_file("stripe/spec3.prism-mock.json")
    pytest.importorskip("yaml")
    out = tmp_path / "stripe" / "spec3.prism-mock.json"

    assert main([str(official), str(out)]) == 0

    written = hashlib.sha256(out.read_bytes()).hexdigest()
    assert written == hashlib.sha256(served.read_bytes()).hexdigest()


def test_a_json_spec_needs_no_yaml_reader(tmp_path):
    source = tmp_path / "spec3.json"
    source.write_text(json.dumps(TINY_SPEC), encoding="utf-8")
    out = tmp_path / "out.json"

    assert main([str(source), str(out)]) == 0

    assert json.loads(out.read_text(encoding="utf-8")) == prism_ready(TINY_SPEC)
