"""Every GraphQL document the channel can send is valid on Shopify's official 2026-10 schema.

* each entry of ``DOCUMENTS`` parses and validates against the official introspection
  schema (``shared/specs/shopify/admin_2026-10.json.gz``), not against the imitation;
* the check is real: a document with a field Shopify does not have fails it;
* the client can send nothing else: an operation outside ``DOCUMENTS`` is a KeyError;
* each query's requested cost on that schema stays well under Shopify's 1,000 points.
"""

from __future__ import annotations

import functools
import gzip
import json

import pytest
from graphql import GraphQLSchema, build_client_schema, get_operation_ast, parse, validate

from fbs_channel_shopify.shopify_client import ShopifyClient
from fbs_channel_shopify.shopify_documents import DOCUMENTS
from fbs_core.testing.specs import spec_file


@functools.cache
def official_schema() -> GraphQLSchema:
    with gzip.open(spec_file("shopify/admin_2026-10.json.gz"), "rt", encoding="utf-8") as handle:
        return build_client_schema(json.load(handle)["data"], assume_valid=True)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_document_is_valid_on_the_official_schema(name):
    document = parse(DOCUMENTS[name])

    assert validate(official_schema(), document) == []
    assert get_operation_ast(document, name) is not None


def test_a_field_shopify_does_not_have_fails_validation():
    document = parse(DOCUMENTS["FbsOrders"].replace("cancelledAt", "cancelledAt trackingNumber"))

    errors = validate(official_schema(), document)

    assert [e.message for e in errors] == ["Cannot query field 'trackingNumber' on type 'Order'."]


def test_the_client_sends_only_the_documents_listed():
    client = ShopifyClient("http://127.0.0.1:9/admin/api/2026-10/graphql.json", "token")
    try:
        with pytest.raises(KeyError):
            client.execute("SomethingElse")
    finally:
        client.close()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_query_costs_well_under_the_single_query_maximum(name):
    from fbs_sandbox.shopify._shopify_cost import requested_cost

    document = parse(DOCUMENTS[name])
    operation = get_operation_ast(document, name)

    assert requested_cost(official_schema(), operation, {"first": 6}) <= 800
