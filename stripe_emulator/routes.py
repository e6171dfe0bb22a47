"""The emulated Stripe API: every endpoint, its params TypedDict, checks and handler."""

from __future__ import annotations

from stripe.params import (
    ChargeRetrieveParams,
    EventListParams,
    EventRetrieveParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
    RefundListParams,
    RefundRetrieveParams,
    WebhookEndpointCreateParams,
    WebhookEndpointDeleteParams,
    WebhookEndpointListParams,
    WebhookEndpointRetrieveParams,
    WebhookEndpointUpdateParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionLineItemListParams,
    SessionListParams,
    SessionRetrieveParams,
)

from . import checkout, event_api, payment_intent_api, payment_methods, refund_api, rules
from . import webhook_endpoint_api as endpoints
from .expansion import check_no_expand
from .pagination import check_pagination
from .routing import ApiContext, Route

_SESSION = r"/v1/checkout/sessions/(?P<session>[^/]+)"
_ENDPOINTS = r"/v1/webhook_endpoints"
_ENDPOINT = _ENDPOINTS + r"/(?P<endpoint>[^/]+)"
_REFUNDS = r"/v1/refunds"


def _check_create(ctx: ApiContext) -> None:
    checkout.check_expand(ctx)
    rules.check_create(ctx)
    payment_methods.check_create(ctx)


ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        r"/v1/checkout/sessions",
        SessionCreateParams,
        checkout.create,
        _check_create,
        payment_methods.check_removed_params,
    ),
    Route(
        "GET",
        r"/v1/checkout/sessions",
        SessionListParams,
        checkout.list_sessions,
        checkout.check_list,
    ),
    Route("GET", _SESSION, SessionRetrieveParams, checkout.retrieve, checkout.check_expand),
    Route(
        "POST", _SESSION + "/expire", SessionExpireParams, checkout.expire, checkout.check_expand
    ),
    Route(
        "GET",
        _SESSION + "/line_items",
        SessionLineItemListParams,
        checkout.list_line_items,
        check_pagination,
    ),
    Route("GET", r"/v1/events", EventListParams, event_api.list_events, event_api.check_list),
    Route(
        "GET",
        r"/v1/events/(?P<event>[^/]+)",
        EventRetrieveParams,
        event_api.retrieve,
        check_no_expand,
    ),
    Route(
        "POST", _ENDPOINTS, WebhookEndpointCreateParams, endpoints.create, endpoints.check_create
    ),
    Route(
        "GET",
        _ENDPOINTS,
        WebhookEndpointListParams,
        endpoints.list_endpoints,
        endpoints.check_list,
    ),
    Route("GET", _ENDPOINT, WebhookEndpointRetrieveParams, endpoints.retrieve, check_no_expand),
    Route("POST", _ENDPOINT, WebhookEndpointUpdateParams, endpoints.update, endpoints.check_update),
    Route("DELETE", _ENDPOINT, WebhookEndpointDeleteParams, endpoints.delete),
    Route(
        "GET",
        r"/v1/payment_intents/(?P<intent>[^/]+)",
        PaymentIntentRetrieveParams,
        payment_intent_api.retrieve_intent,
        payment_intent_api.check_retrieve_intent,
    ),
    Route(
        "GET",
        r"/v1/charges/(?P<charge>[^/]+)",
        ChargeRetrieveParams,
        payment_intent_api.retrieve_charge,
        payment_intent_api.check_retrieve_charge,
    ),
    Route("POST", _REFUNDS, RefundCreateParams, refund_api.create, refund_api.check_create),
    Route("GET", _REFUNDS, RefundListParams, refund_api.list_refunds, refund_api.check_list),
    Route(
        "GET",
        _REFUNDS + r"/(?P<refund>[^/]+)",
        RefundRetrieveParams,
        refund_api.retrieve,
        refund_api.check_retrieve,
    ),
)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        args = route.match(method, path)
        if args is not None:
            return route, args
    return None
