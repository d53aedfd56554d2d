"""Calculated query cost and the leaky bucket, as Shopify's rate-limit docs describe them.

Source: shopify.dev "GraphQL Admin API rate limits" (cost calculation) and "Shopify API
limits" (the leaky bucket; the 1,000-point maximum for one query; ``THROTTLED`` and
``MAX_COST_EXCEEDED``). A field that returns a scalar or an enum costs 0, an object 1, a
connection 2 plus the cost of one node times ``first`` (or ``last``), and a mutation 10.
The *requested* cost is computed from the document before it runs and must be in the
bucket; the *actual* cost is computed from what was returned, and the difference is given
back. The bucket restores ``restore_rate`` points per second up to ``maximum``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
MAX_QUERY_COST = 1000


def _size(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = value_from_ast_untyped(argument.value, variables)
            return int(value) if isinstance(value, int) else 0
    return None


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set)
    return found


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _field_def(parent: Any, name: str) -> Any:
    fields = getattr(parent, "fields", None) or {}
    return fields.get(name)


def requested_cost(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> int:
    """The cost Shopify asks the bucket for before running ``operation``."""
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST
    root = schema.query_type
    return sum(_field_cost(root, f, variables, None) for f in _fields(operation.selection_set))


def _selection_cost(parent: Any, selection: SelectionSetNode | None, variables, data) -> int:  # noqa: ANN001
    total = 0
    for field in _fields(selection):
        key = field.alias.value if field.alias else field.name.value
        value = data.get(key) if isinstance(data, Mapping) else None
        total += _field_cost(
            parent, field, variables, value if data is not None else None, data is not None
        )
    return total


def _field_cost(parent: Any, field: FieldNode, variables, data, actual: bool = False) -> int:  # noqa: ANN001
    name = field.name.value
    if name.startswith("__"):
        return 0
    definition = _field_def(parent, name)
    if definition is None:
        return 0
    named = get_named_type(definition.type)
    if is_leaf_type(named):
        return 0
    if actual and data is None:
        return 0
    if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
        node_type = (
            get_named_type(_field_def(named, "nodes").type) if _field_def(named, "nodes") else None
        )
        per_node_fields = []
        for sub in _fields(field.selection_set):
            if sub.name.value == "nodes":
                per_node_fields.append(("nodes", sub))
            elif sub.name.value == "edges":
                per_node_fields += [
                    ("edges", e) for e in _fields(sub.selection_set) if e.name.value == "node"
                ]
        if actual:
            nodes = (
                data.get("nodes") or [e.get("node") for e in data.get("edges") or []]
                if isinstance(data, Mapping)
                else []
            )
            return 2 + sum(
                1
                + sum(
                    _selection_cost(node_type, sub.selection_set, variables, node)
                    for _, sub in per_node_fields
                )
                for node in nodes or []
                if node is not None
            )
        size = _size(field, variables) or 0
        per_node = 1 + sum(
            _selection_cost(node_type, sub.selection_set, variables, None)
            for _, sub in per_node_fields
        )
        return 2 + size * per_node
    if _is_list(definition.type):
        if actual:
            items = data if isinstance(data, list) else []
            return sum(1 + _selection_cost(named, field.selection_set, variables, i) for i in items)
        size = _size(field, variables) or 1
        return size * (1 + _selection_cost(named, field.selection_set, variables, None))
    return 1 + _selection_cost(named, field.selection_set, variables, data if actual else None)


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """What the answer cost: connections counted by the nodes actually returned."""
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST
    if data is None:
        return 0
    root = schema.query_type
    return sum(
        _field_cost(root, f, variables, data.get(f.alias.value if f.alias else f.name.value), True)
        for f in _fields(operation.selection_set)
    )


class LeakyBucket:
    """One app's bucket on one shop."""

    def __init__(
        self,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._clock = clock
        self._available = maximum
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, cost: float) -> bool:
        """Take ``cost`` points if the bucket holds them; False (nothing taken) if not."""
        with self._lock:
            self._refill()
            if self._available < cost:
                return False
            self._available -= cost
            return True

    def give_back(self, points: float) -> None:
        """Return the points a query was charged but did not use."""
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(points, 0))

    def drain(self, points: float | None = None) -> None:
        """Empty the bucket (or take ``points``), as another app's burst would."""
        with self._lock:
            self._refill()
            self._available = 0.0 if points is None else max(0.0, self._available - points)

    def status(self) -> dict[str, float]:
        """``throttleStatus`` as Shopify reports it."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": float(self.maximum),
                "currentlyAvailable": float(int(self._available)),
                "restoreRate": float(self.restore_rate),
            }
