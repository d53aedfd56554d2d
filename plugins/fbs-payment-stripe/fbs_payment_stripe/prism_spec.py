"""Make the Prism-ready copy of Stripe's OpenAPI spec that the Stripe contract tests serve.

Stripe publishes its spec in the public repository ``stripe/openapi`` (MIT licence). The
contract tests use ``openapi/spec3.yaml`` (or ``spec3.json``, the same spec) at commit
``63a674638635c68de26b9f3add13e58198f4df44`` (2023-09-12, API version 2023-08-16)::

    curl -LO https://raw.githubusercontent.com/stripe/openapi/63a674638635c68de26b9f3add13e58198f4df44/openapi/spec3.yaml
    python -m fbs_payment_stripe.prism_spec spec3.yaml "$FBS_SPECS_DIR/stripe/spec3.prism-mock.json"

Prism never finishes starting on the official file: Stripe's schemas refer to each other
in circles (customer, invoice, subscription ...). The copy keeps what a request check
needs and cuts the circles:

* every path is kept as it is, except that in each request body the ``required`` lists
  below the top level are dropped: Prism's form parser invents an empty object for every
  absent nested parameter, and the nested ``required`` lists then turn real requests into
  false 422s;
* ``components.schemas`` keeps the schemas the paths refer to, and inside them every
  ``$ref`` becomes a free-form schema ``{"description": "cut for mocking: was <ref>"}``,
  except that the ``error`` schema's ``error`` property gets ``api_errors`` inlined so
  that clients can read error bodies; ``securitySchemes`` is kept.

Reading YAML needs PyYAML; a ``.json`` spec needs nothing but the standard library.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_PREFIX = "#/components/schemas/"
REQUEST_CONTENT_TYPES = ("application/x-www-form-urlencoded",)


def load_spec(path: Path) -> dict[str, Any]:
    """Read a spec file, JSON or YAML by its suffix."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise SystemExit(
            f"{path}: reading YAML needs PyYAML (pip install pyyaml); or use spec3.json"
        ) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def prism_ready(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the Prism-ready copy of Stripe's ``spec`` (which is left unchanged)."""
    result = copy.deepcopy(spec)
    for operation in _operations(result["paths"]):
        for media in (operation.get("requestBody") or {}).get("content", {}).values():
            schema = media.get("schema")
            if isinstance(schema, dict):
                for value in schema.values():
                    _drop_required_lists(value)
    schemas = spec["components"]["schemas"]
    kept = {}
    for name in sorted(_referenced_schemas(result["paths"])):
        kept[name] = _cut_refs(copy.deepcopy(schemas[name]))
    if "error" in kept and "api_errors" in schemas:
        kept["error"]["properties"]["error"] = _cut_refs(copy.deepcopy(schemas["api_errors"]))
    result["components"] = {**result["components"], "schemas": kept}
    return result


def _operations(paths: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in paths.values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield operation


def _drop_required_lists(node: Any) -> None:
    """Remove every list-valued ``required`` at or below ``node`` (not a property named so)."""
    if isinstance(node, dict):
        if isinstance(node.get("required"), list):
            del node["required"]
        for value in node.values():
            _drop_required_lists(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required_lists(value)


def _referenced_schemas(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set()
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            found.add(ref[len(SCHEMA_PREFIX) :])
        for value in node.values():
            found |= _referenced_schemas(value)
        return found
    if isinstance(node, list):
        return set().union(*(_referenced_schemas(v) for v in node)) if node else set()
    return set()


def _cut_refs(node: Any) -> Any:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            return {"description": f"cut for mocking: was {node['$ref']}"}
        return {key: _cut_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_cut_refs(value) for value in node]
    return node


def main(argv: list[str] | None = None) -> int:
    """``python -m fbs_payment_stripe.prism_spec SPEC OUT``."""
    parser = argparse.ArgumentParser(
        prog="python -m fbs_payment_stripe.prism_spec",
        description="Write the Prism-ready copy of Stripe's OpenAPI spec (spec3.yaml/json).",
    )
    parser.add_argument("spec", type=Path, help="Stripe's spec3.yaml or spec3.json")
    parser.add_argument("out", type=Path, help="where to write spec3.prism-mock.json")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        parser.error(f"{args.spec}: no such file")
    ready = prism_ready(load_spec(args.spec))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(ready, separators=(",", ":")), encoding="utf-8")
    print(
        f"wrote {args.out}: {len(ready['paths'])} paths, "
        f"{len(ready['components']['schemas'])} schemas",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
