"""Every GraphQL document the Shopify channel can send, in one place.

Each constant is a complete document for the Admin GraphQL API 2026-10; the channel sends
no other text. ``tests/test_shopify_documents.py`` validates every entry of
:data:`DOCUMENTS` against Shopify's official 2026-10 schema, so a misspelt field or
argument fails a test instead of a merchant's poll.

Page sizes are chosen so each query's requested cost stays well under Shopify's
1,000-point maximum for one query (see :data:`ESTIMATED_COST`).
"""

from __future__ import annotations

ORDER_PAGE_LINES = 10
"""Line items read with each order in a page; an order with more is read again alone."""
ORDER_PAGE_FULFILLMENT_ORDERS = 3
"""Fulfillment orders read with each order in a page (more are read alone)."""
LINE_PAGE = 50
"""Line items per page when one order's lines are read on their own."""
FULFILLMENT_ORDER_LINE_PAGE = 100
"""Fulfillment-order line items per page when one fulfillment order is read alone."""

_MONEY = "shopMoney { amount currencyCode }"

_LINE_FIELDS = f"""
  id sku name quantity currentQuantity requiresShipping isGiftCard
  discountedUnitPriceAfterAllDiscountsSet {{ {_MONEY} }}
"""

_FULFILLMENT_ORDER_FIELDS = """
  id status requestStatus
  assignedLocation { name location { id name } }
  deliveryMethod { methodType }
  fulfillmentHolds { reason reasonNotes }
"""

ORDERS = f"""
query FbsOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id name createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      currencyCode email phone note
      shippingAddress {{
        firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone
      }}
      currentShippingPriceSet {{ {_MONEY} }}
      currentTotalTaxSet {{ {_MONEY} }}
      currentSubtotalPriceSet {{ {_MONEY} }}
      currentTotalPriceSet {{ {_MONEY} }}
      lineItems(first: {ORDER_PAGE_LINES}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_LINE_FIELDS} }}
      }}
      fulfillmentOrders(first: {ORDER_PAGE_FULFILLMENT_ORDERS}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{
          {_FULFILLMENT_ORDER_FIELDS}
          lineItems(first: {ORDER_PAGE_LINES}) {{
            pageInfo {{ hasNextPage endCursor }}
            nodes {{ id remainingQuantity totalQuantity lineItem {{ id }} }}
          }}
        }}
      }}
    }}
  }}
}}
"""
"""A page of orders updated since a moment, oldest change first."""

ORDER_LINES = f"""
query FbsOrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    id
    lineItems(first: {LINE_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_LINE_FIELDS} }}
    }}
  }}
}}
"""
"""The rest of one order's line items, when it has more than a page holds."""

ORDER_FULFILLMENT_ORDERS = f"""
query FbsOrderFulfillmentOrders($id: ID!, $after: String) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: 5, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {_FULFILLMENT_ORDER_FIELDS}
        lineItems(first: {ORDER_PAGE_LINES}) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ id remainingQuantity totalQuantity lineItem {{ id }} }}
        }}
      }}
    }}
  }}
}}
"""
"""One order's fulfillment orders, five at a time (for writing tracking and for intake)."""

FULFILLMENT_ORDER_LINES = f"""
query FbsFulfillmentOrderLines($id: ID!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    id
    lineItems(first: {FULFILLMENT_ORDER_LINE_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id remainingQuantity totalQuantity lineItem {{ id }} }}
    }}
  }}
}}
"""
"""The rest of one fulfillment order's line items."""

ORDER_FULFILLMENTS = """
query FbsOrderFulfillments($id: ID!) {
  order(id: $id) {
    id cancelledAt
    fulfillments(first: 50) { id status trackingInfo(first: 5) { company number url } }
  }
}
"""
"""The fulfillments already on an order, read before creating one (no idempotency key)."""

FULFILLMENT_CREATE = """
mutation FbsFulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""
"""Fulfil some fulfillment-order line items with one parcel's tracking."""

LOCATIONS = """
query FbsLocations {
  locations(first: 50, includeInactive: false) {
    nodes { id name isActive fulfillsOnlineOrders }
  }
}
"""
"""The shop's active locations, to find the configured one (and list them when it is not)."""

SHOP = """
query FbsShop {
  shop { id name myshopifyDomain }
}
"""
"""The cheapest authenticated call: the shop's own name and domain."""

WEBHOOK_SUBSCRIPTIONS = """
query FbsWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""
"""Existing webhook subscriptions, so subscribing twice creates nothing new."""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation FbsWebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""
"""Subscribe one topic to an HTTPS address."""

FULFILLMENT_SERVICES = """
query FbsFulfillmentServices {
  shop { fulfillmentServices { id serviceName location { id name } } }
}
"""
"""The shop's fulfillment services (fulfillment-service mode finds its own by name)."""

FULFILLMENT_SERVICE_CREATE = """
mutation FbsFulfillmentServiceCreate($name: String!) {
  fulfillmentServiceCreate(name: $name, trackingSupport: true, inventoryManagement: false) {
    fulfillmentService { id serviceName location { id name } }
    userErrors { field message }
  }
}
"""
"""Register fbs as a fulfillment service, with a location of its own."""

_ASSIGNED_LINE = f"id remainingQuantity totalQuantity lineItem {{ {_LINE_FIELDS} }}"

ASSIGNED_FULFILLMENT_ORDERS = f"""
query FbsAssignedFulfillmentOrders(
  $first: Int!, $after: String, $status: FulfillmentOrderAssignmentStatus, $locationIds: [ID!]
) {{
  assignedFulfillmentOrders(
    first: $first, after: $after, assignmentStatus: $status, locationIds: $locationIds
  ) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {_FULFILLMENT_ORDER_FIELDS}
      order {{
        id name createdAt updatedAt cancelledAt displayFinancialStatus
        currencyCode email phone note
        shippingAddress {{
          firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone
        }}
        currentShippingPriceSet {{ {_MONEY} }}
        currentTotalTaxSet {{ {_MONEY} }}
        currentSubtotalPriceSet {{ {_MONEY} }}
        currentTotalPriceSet {{ {_MONEY} }}
      }}
      lineItems(first: {ORDER_PAGE_LINES}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_ASSIGNED_LINE} }}
      }}
    }}
  }}
}}
"""
"""Fulfillment orders Shopify routed to fbs's location, by request status (service mode)."""

ASSIGNED_LINES = f"""
query FbsAssignedLines($id: ID!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    id
    lineItems(first: {LINE_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_ASSIGNED_LINE} }}
    }}
  }}
}}
"""
"""The rest of a routed fulfillment order's line items, with their order lines."""

_FO_PAYLOAD = "fulfillmentOrder { id status requestStatus } userErrors { field message }"

ACCEPT_FULFILLMENT_REQUEST = f"""
mutation FbsAcceptFulfillmentRequest($id: ID!, $message: String) {{
  fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: $message) {{ {_FO_PAYLOAD} }}
}}
"""
"""Take a fulfillment request (service mode)."""

REJECT_FULFILLMENT_REQUEST = f"""
mutation FbsRejectFulfillmentRequest(
  $id: ID!, $message: String, $reason: FulfillmentOrderRejectionReason
) {{
  fulfillmentOrderRejectFulfillmentRequest(id: $id, message: $message, reason: $reason) {{
    {_FO_PAYLOAD}
  }}
}}
"""
"""Turn a fulfillment request down with a reason (service mode)."""

ACCEPT_CANCELLATION_REQUEST = f"""
mutation FbsAcceptCancellationRequest($id: ID!, $message: String) {{
  fulfillmentOrderAcceptCancellationRequest(id: $id, message: $message) {{ {_FO_PAYLOAD} }}
}}
"""
"""Agree to stop a fulfillment order nothing of which has shipped (service mode)."""

REJECT_CANCELLATION_REQUEST = f"""
mutation FbsRejectCancellationRequest($id: ID!, $message: String) {{
  fulfillmentOrderRejectCancellationRequest(id: $id, message: $message) {{ {_FO_PAYLOAD} }}
}}
"""
"""Refuse to stop a fulfillment order that has already shipped (service mode)."""

DOCUMENTS: dict[str, str] = {
    "FbsOrders": ORDERS,
    "FbsOrderLines": ORDER_LINES,
    "FbsOrderFulfillmentOrders": ORDER_FULFILLMENT_ORDERS,
    "FbsFulfillmentOrderLines": FULFILLMENT_ORDER_LINES,
    "FbsOrderFulfillments": ORDER_FULFILLMENTS,
    "FbsFulfillmentCreate": FULFILLMENT_CREATE,
    "FbsLocations": LOCATIONS,
    "FbsShop": SHOP,
    "FbsWebhookSubscriptions": WEBHOOK_SUBSCRIPTIONS,
    "FbsWebhookSubscriptionCreate": WEBHOOK_SUBSCRIPTION_CREATE,
    "FbsFulfillmentServices": FULFILLMENT_SERVICES,
    "FbsFulfillmentServiceCreate": FULFILLMENT_SERVICE_CREATE,
    "FbsAssignedFulfillmentOrders": ASSIGNED_FULFILLMENT_ORDERS,
    "FbsAssignedLines": ASSIGNED_LINES,
    "FbsAcceptFulfillmentRequest": ACCEPT_FULFILLMENT_REQUEST,
    "FbsRejectFulfillmentRequest": REJECT_FULFILLMENT_REQUEST,
    "FbsAcceptCancellationRequest": ACCEPT_CANCELLATION_REQUEST,
    "FbsRejectCancellationRequest": REJECT_CANCELLATION_REQUEST,
}
"""Operation name → document: everything the channel may send."""
