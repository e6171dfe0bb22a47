"""Handlers for `GET /v1/payment_intents/{id}` and `GET /v1/charges/{id}`.

The intents and charges are those of paid Checkout Sessions (see `payments`),
seen on the session's account only, as on Stripe.
"""

from __future__ import annotations

import copy
from typing import Any

from . import errors, expansion, objects
from .routing import ApiContext
from .store import StoredObject

Response = tuple[int, dict[str, Any]]

PAYMENT_INTENT_EXPANDABLE = (
    "application",
    "customer",
    "latest_charge",
    "on_behalf_of",
    "payment_method",
    "payment_record",
    "review",
    "source",
)
CHARGE_EXPANDABLE = (
    "application",
    "application_fee",
    "balance_transaction",
    "customer",
    "failure_balance_transaction",
    "on_behalf_of",
    "payment_intent",
    "refunds",
    "review",
    "source_transfer",
    "transfer",
)

check_retrieve_intent = expansion.expandable(*PAYMENT_INTENT_EXPANDABLE)
check_retrieve_charge = expansion.expandable(*CHARGE_EXPANDABLE)


def retrieve_intent(ctx: ApiContext) -> Response:
    intent_id = ctx.path_args["intent"]
    stored = ctx.store.find_object("payment_intent", intent_id, ctx.account)
    if stored is None:
        raise errors.resource_missing("payment_intent", intent_id, "intent")
    return 200, _expanded(ctx, stored)


def retrieve_charge(ctx: ApiContext) -> Response:
    charge_id = ctx.path_args["charge"]
    stored = ctx.store.find_object("charge", charge_id, ctx.account)
    if stored is None:
        raise errors.resource_missing("charge", charge_id, "id")
    charge = _expanded(ctx, stored)
    if "refunds" in ctx.params.get("expand", []):
        refunds = [
            copy.deepcopy(refund.object)
            for refund in ctx.store.objects_of("refund", ctx.account)
            if refund.object["charge"] == charge_id
        ]
        charge["refunds"] = objects.list_object(
            f"/v1/charges/{charge_id}/refunds", refunds, has_more=False
        )
    return 200, charge


def _expanded(ctx: ApiContext, stored: StoredObject) -> dict[str, Any]:
    return expansion.expand(ctx, copy.deepcopy(stored.object), ctx.params.get("expand", []))
