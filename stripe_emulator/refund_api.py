"""Handlers for `/v1/refunds`: create, retrieve, list.

A refund names the `payment_intent` or the `charge` it refunds, on the
account that owns it (`Stripe-Account`); the rules and the events are
`refunds`'. Refunds from a customer balance (`customer`, `origin`,
`currency`) and transfer reversals are not emulated, and say so.
"""

from __future__ import annotations

import copy
from typing import Any

from . import errors, expansion, objects, refunds
from .metadata import check_metadata
from .pagination import check_pagination, matches_created, paginate
from .routing import ApiContext

REFUNDS_URL = "/v1/refunds"
REFUND_EXPANDABLE = (
    "balance_transaction",
    "charge",
    "customer",
    "failure_balance_transaction",
    "payment_intent",
    "payment_method",
    "source_transfer_reversal",
    "transfer_reversal",
)
_NOT_EMULATED = ("customer", "origin", "currency")

Response = tuple[int, dict[str, Any]]

check_retrieve = expansion.expandable(*REFUND_EXPANDABLE)


# --- checks -------------------------------------------------------------------


def check_create(ctx: ApiContext) -> None:
    params = ctx.params
    expansion.check_expand(ctx, REFUND_EXPANDABLE)
    for name in _NOT_EMULATED:
        if name in params:
            raise errors.invalid(
                f"The Stripe emulator does not support refunds to a customer balance ({name}).",
                name,
            )
    if params.get("reverse_transfer"):
        raise errors.invalid(
            "The Stripe emulator does not support reverse_transfer (it has no transfers).",
            "reverse_transfer",
        )
    if "charge" in params and "payment_intent" in params:
        raise errors.parameters_exclusive("charge", "payment_intent")
    if "charge" not in params and "payment_intent" not in params:
        raise errors.invalid(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            "payment_intent",
            "parameter_missing",
        )
    if "amount" in params and params["amount"] < 1:
        raise errors.invalid("Invalid positive integer", "amount")
    check_metadata(params.get("metadata"), "metadata")


def check_list(ctx: ApiContext) -> None:
    check_pagination(ctx)
    expansion.check_expand(ctx, REFUND_EXPANDABLE, prefix="data.")


# --- handlers -----------------------------------------------------------------


def create(ctx: ApiContext) -> Response:
    params = ctx.params
    charge = refunds.charge_to_refund(
        ctx.store,
        ctx.account,
        payment_intent=params.get("payment_intent"),
        charge=params.get("charge"),
    )
    refund = refunds.create(
        ctx.store,
        charge,
        now=ctx.now,
        amount=params.get("amount"),
        reason=params.get("reason"),
        metadata=params.get("metadata"),
        refund_application_fee=params.get("refund_application_fee", False),
        instructions_email=params.get("instructions_email"),
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
    )
    return 200, expansion.expand(ctx, copy.deepcopy(refund), ctx.params.get("expand", []))


def retrieve(ctx: ApiContext) -> Response:
    refund_id = ctx.path_args["refund"]
    stored = ctx.store.find_object("refund", refund_id, ctx.account)
    if stored is None:
        raise errors.resource_missing("refund", refund_id, "id")
    return 200, expansion.expand(ctx, copy.deepcopy(stored.object), ctx.params.get("expand", []))


def list_refunds(ctx: ApiContext) -> Response:
    params = ctx.params
    page, has_more = paginate(
        [stored.object for stored in ctx.store.objects_of("refund", ctx.account)],
        params,
        id_of=lambda refund: refund["id"],
        object_name="refund",
        keep=lambda refund: _matches(refund, params),
    )
    paths = expansion.list_paths(ctx)
    data = [expansion.expand(ctx, copy.deepcopy(refund), paths) for refund in page]
    return 200, objects.list_object(REFUNDS_URL, data, has_more)


def _matches(refund: dict[str, Any], params: dict[str, Any]) -> bool:
    for name in ("charge", "payment_intent"):
        if name in params and refund[name] != params[name]:
            return False
    return "created" not in params or matches_created(refund["created"], params["created"])
