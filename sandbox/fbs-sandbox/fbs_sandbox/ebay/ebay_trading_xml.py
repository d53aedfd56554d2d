"""The Trading API's XML for the imitation: GetOrders and CompleteSale.

Source: eBay's Trading API call reference (developer.ebay.com/devzone/xml/docs/reference/
ebay): ``GetOrdersRequestType`` (OrderIDArray, CreateTimeFrom/To, OrderRole, OrderStatus,
ListingType, Pagination{EntriesPerPage, PageNumber}, ModTimeFrom/To, NumberOfDays,
IncludeFinalValueFee, SortingOrder), ``GetOrdersResponseType`` (OrderArray, HasMoreOrders,
PaginationResult{TotalNumberOfPages, TotalNumberOfEntries}, PageNumber,
ReturnedOrderCountActual), ``OrderType``, ``TransactionType``, ``AddressType``,
``MultiLegShippingDetailsType`` (the eBay International Shipping leg and its
``ReferenceID``), ``ShippingPackageInfoType`` (``HandleByTime``), ``CompleteSaleRequestType``
(ItemID, TransactionID, FeedbackInfo, Shipped, Paid, ListingType, Shipment, OrderID,
OrderLineItemID) and ``ShipmentType``/``ShipmentTrackingDetailsType``, and the common
``AbstractRequestType``/``AbstractResponseType`` (RequesterCredentials, Ack, Errors,
Timestamp, Version). Requests carry the ``X-EBAY-API-*`` headers the reference's "Making
a call" page lists.

Orders are rendered from the imitation's Sell Fulfillment shaped orders, so both APIs
show the same account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

NS = "urn:ebay:apis:eBLBaseComponents"
_Q = f"{{{NS}}}"

COMMON_REQUEST_ELEMENTS = frozenset(
    {
        "RequesterCredentials",
        "DetailLevel",
        "ErrorLanguage",
        "MessageID",
        "Version",
        "WarningLevel",
        "OutputSelector",
        "EndUserIP",
        "ErrorHandling",
        "InvocationID",
    }
)
REQUEST_ELEMENTS = {
    "GetOrders": frozenset(
        {
            "OrderIDArray",
            "CreateTimeFrom",
            "CreateTimeTo",
            "OrderRole",
            "OrderStatus",
            "ListingType",
            "Pagination",
            "ModTimeFrom",
            "ModTimeTo",
            "NumberOfDays",
            "IncludeFinalValueFee",
            "SortingOrder",
        }
    ),
    "CompleteSale": frozenset(
        {
            "ItemID",
            "TransactionID",
            "FeedbackInfo",
            "Shipped",
            "Paid",
            "ListingType",
            "Shipment",
            "OrderID",
            "OrderLineItemID",
        }
    ),
}
REQUIRED_HEADERS = (
    "x-ebay-api-call-name",
    "x-ebay-api-compatibility-level",
    "x-ebay-api-siteid",
    "x-ebay-api-app-name",
    "x-ebay-api-dev-name",
    "x-ebay-api-cert-name",
)


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.split("}", 1)[-1]


def child_text(element: ET.Element | None, *path: str) -> str | None:
    """The text of the element at ``path`` below ``element`` (namespaced), or None."""
    node = element
    for name in path:
        if node is None:
            return None
        node = node.find(_Q + name)
    return node.text.strip() if node is not None and node.text else None


def request_problems(call: str, root: ET.Element) -> list[str]:
    """Elements the reference does not define for ``call``, or a wrong root element."""
    if root.tag != f"{_Q}{call}Request":
        return [f"the root element is {local(root.tag)}, not {call}Request in {NS}"]
    allowed = REQUEST_ELEMENTS.get(call, frozenset()) | COMMON_REQUEST_ELEMENTS
    return [
        f"{call}Request has no element {local(child.tag)}"
        for child in root
        if local(child.tag) not in allowed
    ]


def _sub(parent: ET.Element, name: str, text: Any = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, name, attrs)
    if text is not None:
        element.text = str(text).lower() if isinstance(text, bool) else str(text)
    return element


def response(call: str, now: datetime, *, errors: list[tuple[str, str, str]] = ()) -> ET.Element:
    """``<{call}Response>`` with Timestamp, Ack (Failure with ``errors``) and Version."""
    root = ET.Element(f"{call}Response", {"xmlns": NS})
    _sub(root, "Timestamp", now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    _sub(root, "Ack", "Failure" if errors else "Success")
    for code, short, long in errors:
        error = _sub(root, "Errors")
        _sub(error, "ShortMessage", short)
        _sub(error, "LongMessage", long)
        _sub(error, "ErrorCode", code)
        _sub(error, "SeverityCode", "Error")
        _sub(error, "ErrorClassification", "RequestError")
    _sub(root, "Version", "1349")
    _sub(root, "Build", "E1349_CORE_APIXO_19146596_R1")
    return root


def render(root: ET.Element) -> bytes:
    """The document as eBay sends it."""
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8")


def _address(
    parent: ET.Element, name: str, contact: dict[str, Any], reference: str | None = None
) -> None:
    address = contact.get("contactAddress") or {}
    node = _sub(parent, name)
    _sub(node, "Name", contact.get("fullName", ""))
    _sub(node, "Street1", address.get("addressLine1", ""))
    _sub(node, "Street2", address.get("addressLine2", ""))
    _sub(node, "CityName", address.get("city", ""))
    _sub(node, "StateOrProvince", address.get("stateOrProvince", ""))
    _sub(node, "Country", address.get("countryCode", ""))
    _sub(node, "Phone", (contact.get("primaryPhone") or {}).get("phoneNumber", "Invalid Request"))
    _sub(node, "PostalCode", address.get("postalCode", ""))
    if reference:
        _sub(node, "ReferenceID", reference)


def order_status(order: dict[str, Any]) -> str:
    """The Trading ``OrderStatus`` of an order (``Completed`` once paid, or a cancellation)."""
    state = order["cancelStatus"].get("cancelState")
    if state == "CANCELED":
        return "Cancelled"
    if state == "IN_PROGRESS":
        return "CancelPending"
    return "Completed"


def _cancel_status(order: dict[str, Any]) -> str:
    state = order["cancelStatus"].get("cancelState")
    return {"CANCELED": "CancelComplete", "IN_PROGRESS": "CancelRequested"}.get(
        state, "NotApplicable"
    )


def order_element(
    parent: ET.Element, order: dict[str, Any], fulfillments: list[dict[str, Any]]
) -> None:
    """One ``OrderType`` rendered from a Sell Fulfillment ``Order``."""
    summary = order["pricingSummary"]
    currency = summary["total"]["currency"]
    node = _sub(parent, "Order")
    _sub(node, "OrderID", order["orderId"])
    _sub(node, "OrderStatus", order_status(order))
    _sub(node, "AdjustmentAmount", "0.0", currencyID=currency)
    _sub(node, "AmountPaid", summary["total"]["value"], currencyID=currency)
    checkout = _sub(node, "CheckoutStatus")
    _sub(checkout, "eBayPaymentStatus", "NoPaymentFailure")
    _sub(checkout, "LastModifiedTime", order["lastModifiedDate"])
    _sub(checkout, "PaymentMethod", "CreditCard")
    _sub(checkout, "Status", "Complete")
    details = _sub(node, "ShippingDetails")
    sales_tax = _sub(details, "SalesTax")
    _sub(sales_tax, "SalesTaxAmount", summary["tax"]["value"], currencyID=currency)
    _sub(details, "SalesRecordNumber", order.get("salesRecordReference", ""))
    _sub(node, "CreatingUserRole", "Buyer")
    _sub(node, "CreatedTime", order["creationDate"])
    step = order["fulfillmentStartInstructions"][0]["shippingStep"]
    reference = step.get("shipToReferenceId")
    if reference:
        _sub(node, "IsMultiLegShipping", True)
        leg = _sub(_sub(node, "MultiLegShippingDetails"), "SellerShipmentToLogisticsProvider")
        _address(leg, "ShipToAddress", step["shipTo"], reference)
        final = order["fulfillmentStartInstructions"][0].get("finalDestinationAddress") or {}
        _address(node, "ShippingAddress", {"fullName": "", "contactAddress": final})
    else:
        _sub(node, "IsMultiLegShipping", False)
        _address(node, "ShippingAddress", step["shipTo"])
    selected = _sub(node, "ShippingServiceSelected")
    _sub(selected, "ShippingService", step.get("shippingServiceCode", "USPSPriority"))
    _sub(selected, "ShippingServiceCost", summary["deliveryCost"]["value"], currencyID=currency)
    _sub(node, "Subtotal", summary["priceSubtotal"]["value"], currencyID=currency)
    _sub(node, "Total", summary["total"]["value"], currencyID=currency)
    transactions = _sub(node, "TransactionArray")
    tracked: dict[str, list[dict[str, Any]]] = {}
    for fulfillment in fulfillments:
        for ref in fulfillment["lineItems"]:
            tracked.setdefault(ref["lineItemId"], []).append(fulfillment)
    collected = bool(order.get("ebayCollectAndRemitTax"))
    for line in order["lineItems"]:
        _transaction(
            transactions, order, line, tracked.get(line["lineItemId"], []), currency, collected
        )
    _sub(node, "BuyerUserID", order["buyer"]["username"])
    _sub(node, "PaidTime", order["creationDate"])
    if order["orderFulfillmentStatus"] == "FULFILLED":
        _sub(
            node,
            "ShippedTime",
            fulfillments[-1]["shippedDate"] if fulfillments else order["lastModifiedDate"],
        )
    _sub(node, "SellerUserID", order["sellerId"])
    _sub(node, "CancelStatus", _cancel_status(order))
    _sub(node, "ExtendedOrderID", order["orderId"])
    _sub(node, "eBayCollectAndRemitTax", collected)


def transaction_id(line: dict[str, Any]) -> str:
    """The Trading API transaction id of a line (the Fulfillment API's line item id)."""
    return str(line["lineItemId"])


def _transaction(
    parent: ET.Element,
    order: dict[str, Any],
    line: dict[str, Any],
    fulfillments: list[dict[str, Any]],
    currency: str,
    collected: bool,
) -> None:
    node = _sub(parent, "Transaction")
    buyer = _sub(node, "Buyer")
    email = order["fulfillmentStartInstructions"][0]["shippingStep"].get("shipTo", {}).get("email")
    _sub(buyer, "Email", email or "Invalid Request")
    shipping = _sub(node, "ShippingDetails")
    for fulfillment in fulfillments:
        tracking = _sub(shipping, "ShipmentTrackingDetails")
        _sub(tracking, "ShippingCarrierUsed", fulfillment.get("shippingCarrierCode") or "Other")
        _sub(tracking, "ShipmentTrackingNumber", fulfillment.get("shipmentTrackingNumber") or "")
    _sub(node, "CreatedDate", order["creationDate"])
    item = _sub(node, "Item")
    _sub(item, "ItemID", line["legacyItemId"])
    _sub(item, "Site", "US")
    _sub(item, "Title", line["title"])
    if line.get("sku"):
        _sub(item, "SKU", line["sku"])
    _sub(node, "QuantityPurchased", line["quantity"])
    _sub(node, "TransactionID", transaction_id(line))
    unit = float(line["lineItemCost"]["value"]) / max(int(line["quantity"]), 1)
    _sub(node, "TransactionPrice", f"{unit:.2f}", currencyID=currency)
    selected = _sub(node, "ShippingServiceSelected")
    package = _sub(selected, "ShippingPackageInfo")
    instructions = line.get("lineItemFulfillmentInstructions") or {}
    if instructions.get("shipByDate"):
        _sub(package, "HandleByTime", instructions["shipByDate"])
    taxes = _sub(node, "Taxes")
    tax_total = sum(float(t["amount"]["value"]) for t in line.get("ebayCollectAndRemitTaxes") or [])
    _sub(taxes, "TotalTaxAmount", f"{tax_total:.2f}", currencyID=currency)
    _sub(node, "OrderLineItemID", f"{line['legacyItemId']}-{transaction_id(line)}")
    _sub(node, "eBayCollectAndRemitTax", collected)
