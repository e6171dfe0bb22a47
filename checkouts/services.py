"""Writes of the checkouts app: creating checkouts and ending the ones they replace."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article, Company, StripeCheckoutSettings
from articles.money import to_stripe_amount
from articles.payment_methods import describe_unavailable
from bokacheckout.connections import release_pooled_connection
from checkouts import checkout_inserts, lifecycle, selectors, stripe_gateway
from checkouts.constants import (
    CHECKOUT_SESSION_ID_PLACEHOLDER,
    EXPIRES_AT_SAFETY_MARGIN,
    MIN_STRIPE_CHECKOUT_LIFETIME,
    SESSION_ID_QUERY_PARAMETER,
    STRIPE_UI_MODES,
    stripe_locale_for_country,
)
from checkouts.exceptions import (
    CheckoutValidationError,
    FieldError,
    PayableAlreadyPaid,
    PaymentMethodNotAvailable,
    StripeCheckoutNotEnabled,
    StripeGatewayError,
)
from checkouts.fees import platform_fee
from checkouts.idempotency import (
    claim_idempotency_key,
    release_idempotency_key,
    request_fingerprint,
)
from checkouts.lifecycle import apply_session_snapshot
from checkouts.models import (
    Checkout,
    CheckoutLine,
    ClientIdempotencyKey,
    Payable,
    StripeExpiry,
    UiMode,
)
from checkouts.stripe_gateway import CheckoutSessionSnapshot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleOrder:
    """One entry of the request's ``Articles``."""

    article_type_id: int
    article_id: int
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    article: Article
    quantity: int


@dataclass(frozen=True)
class RedirectUrls:
    success_url: str = ""
    cancel_url: str = ""
    return_url: str = ""


@dataclass(frozen=True)
class CheckoutResult:
    """A stored checkout and the Stripe session behind it.

    ``session`` carries the client secret for this one response only.
    """

    checkout: Checkout
    session: CheckoutSessionSnapshot
    replayed: bool = False


def create_checkout(
    *,
    company: Company,
    country_code: str,
    articles: Sequence[ArticleOrder],
    internal_reference_id: str,
    ui_mode: UiMode = UiMode.HOSTED,
    confirmation_url: str | None = None,
    cancel_url: str | None = None,
    idempotency_key: str | None = None,
) -> CheckoutResult:
    """Create a Stripe Checkout Session for a payable and store it as its current checkout.

    Storing it supersedes every earlier open checkout of the payable; the
    post-save hook expires those on Stripe once the transaction commits.
    With an ``idempotency_key``, a repeat of the same request returns the
    first checkout instead of creating another.
    """
    request = {
        "country_code": country_code,
        "articles": articles,
        "internal_reference_id": internal_reference_id,
        "ui_mode": ui_mode,
        "confirmation_url": confirmation_url,
        "cancel_url": cancel_url,
    }
    if idempotency_key is None:
        return _create_checkout(company=company, **request)

    claim = claim_idempotency_key(
        company=company, key=idempotency_key, fingerprint=request_fingerprint(request)
    )
    if claim.answered:
        return _replay(claim.checkout)
    try:
        return _create_checkout(company=company, idempotency_claim=claim, **request)
    except BaseException:
        release_idempotency_key(claim)
        raise


def _create_checkout(
    *,
    company: Company,
    country_code: str,
    articles: Sequence[ArticleOrder],
    internal_reference_id: str,
    ui_mode: UiMode,
    confirmation_url: str | None,
    cancel_url: str | None,
    idempotency_claim: ClientIdempotencyKey | None = None,
) -> CheckoutResult:
    stripe_settings = _enabled_stripe_settings(company)
    redirects, redirect_errors = _redirect_urls(
        stripe_settings, ui_mode, confirmation_url, cancel_url
    )
    catalogue = selectors.catalogue_for_checkout(
        company,
        ((order.article_type_id, order.article_id) for order in articles),
        internal_reference_id,
    )
    lines, article_errors = _price_articles(catalogue.articles, articles)
    if redirect_errors or article_errors:
        raise CheckoutValidationError(redirect_errors + article_errors)
    if catalogue.payable_is_paid:
        raise _already_paid(internal_reference_id)

    checkout_id = uuid.uuid4()
    locale = stripe_locale_for_country(country_code)
    fee = platform_fee(
        sum(line.article.unit_amount * line.quantity for line in lines),
        company.currency,
        stripe_settings,
    )
    release_pooled_connection()
    session = stripe_gateway.create_checkout_session(
        account=stripe_settings.connected_account_id,
        params=_session_params(
            checkout_id=checkout_id,
            company=company,
            stripe_settings=stripe_settings,
            lines=lines,
            internal_reference_id=internal_reference_id,
            ui_mode=ui_mode,
            locale=locale,
            redirects=redirects,
            fee=fee,
        ),
        idempotency_key=f"bokacheckout-checkout-{checkout_id}",
    )
    checkout = Checkout(
        id=checkout_id,
        company=company,
        connected_account_id=stripe_settings.connected_account_id,
        ui_mode=ui_mode,
        country_code=country_code,
        locale=locale,
        currency=company.currency,
        application_fee_amount=fee,
        lines=[_snapshot(line).to_json() for line in lines],
        success_url=redirects.success_url,
        cancel_url=redirects.cancel_url,
        return_url=redirects.return_url,
        stripe_session_id=session.id,
        expires_at=session.expires_at,
        status=session.status,
        payment_status=session.payment_status,
    )
    apply_session_snapshot(checkout, session)
    try:
        stored = _store_checkout(
            checkout,
            internal_reference_id=internal_reference_id,
            supersedes_an_open_checkout=catalogue.payable_has_open_checkout,
            idempotency_claim=idempotency_claim,
        )
    except Exception:
        # The transaction rolled back, so nobody will ever see this session: end it.
        # (A worker killed here leaves it to reconcile_checkouts, which finds it by its
        # metadata.)
        _end_unrecorded_session(stripe_settings.connected_account_id, session.id)
        raise
    if stored.payable_was_paid:
        raise _already_paid(internal_reference_id)
    return CheckoutResult(checkout=stored, session=session)


def _enabled_stripe_settings(company: Company) -> StripeCheckoutSettings:
    """The company's settings, if they can take a payment; the settings' own checks ran
    when they were saved, but a script or a currency change may have got round them."""
    stripe_settings = getattr(company, "stripe_settings", None)
    if stripe_settings is None or not stripe_settings.enabled:
        raise StripeCheckoutNotEnabled(
            "Stripe Checkout 1.0 is not set up and enabled for this company."
        )
    unavailable = stripe_settings.payment_methods_unavailable(company.currency)
    if unavailable:
        raise PaymentMethodNotAvailable(
            f"{describe_unavailable(company.currency, unavailable)} The company's Stripe "
            "Checkout settings must change before it can take payments."
        )
    return stripe_settings


def _redirect_urls(
    stripe_settings: StripeCheckoutSettings,
    ui_mode: UiMode,
    confirmation_url: str | None,
    cancel_url: str | None,
) -> tuple[RedirectUrls, list[FieldError]]:
    errors = [
        FieldError(
            field_name,
            "HostNotAllowed",
            f"{field_name} must point to one of the company's allowed hosts.",
        )
        for field_name, url in (("ConfirmationUrl", confirmation_url), ("CancelUrl", cancel_url))
        if url and not stripe_settings.allows_redirect_to(url)
    ]
    confirmation = with_session_id_placeholder(
        confirmation_url or stripe_settings.default_confirmation_url
    )
    if ui_mode == UiMode.EMBEDDED:
        return RedirectUrls(return_url=confirmation), errors
    return RedirectUrls(
        success_url=confirmation, cancel_url=cancel_url or stripe_settings.default_cancel_url
    ), errors


def with_session_id_placeholder(url: str) -> str:
    """Make Stripe put the session id into ``url``, unless the URL already asks for it."""
    if CHECKOUT_SESSION_ID_PLACEHOLDER in url:
        return url
    parts = urlsplit(url)
    parameter = f"{SESSION_ID_QUERY_PARAMETER}={CHECKOUT_SESSION_ID_PLACEHOLDER}"
    query = f"{parts.query}&{parameter}" if parts.query else parameter
    return urlunsplit(parts._replace(query=query))


def _price_articles(
    catalogue: dict[tuple[int, int], Article], articles: Sequence[ArticleOrder]
) -> tuple[list[PricedLine], list[FieldError]]:
    """Price each ordered article from the catalogue; never from the request."""
    lines, errors = [], []
    for index, order in enumerate(articles):
        article = catalogue.get((order.article_type_id, order.article_id))
        if article is None or not article.active:
            errors.append(
                FieldError(
                    f"Articles[{index}].ArticleId",
                    "ArticleNotFound" if article is None else "ArticleInactive",
                    f"No {'active ' if article else ''}article with ArticleTypeId "
                    f"{order.article_type_id} and ArticleId {order.article_id} in this company.",
                )
            )
            continue
        lines.append(PricedLine(article=article, quantity=order.quantity))
    return lines, errors


def _session_params(
    *,
    checkout_id: uuid.UUID,
    company: Company,
    stripe_settings: StripeCheckoutSettings,
    lines: Sequence[PricedLine],
    internal_reference_id: str,
    ui_mode: UiMode,
    locale: str,
    redirects: RedirectUrls,
    fee: int | None,
) -> dict[str, Any]:
    currency = company.currency
    metadata = {
        "company_id": str(company.id),
        "internal_reference_id": internal_reference_id,
        "checkout_id": str(checkout_id),
    }
    lifetime = max(
        stripe_settings.checkout_lifetime, MIN_STRIPE_CHECKOUT_LIFETIME + EXPIRES_AT_SAFETY_MARGIN
    )
    params: dict[str, Any] = {
        "mode": "payment",
        "ui_mode": STRIPE_UI_MODES[ui_mode],
        "line_items": [
            {
                "quantity": line.quantity,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": to_stripe_amount(line.article.unit_amount, currency),
                    "product_data": {
                        "name": line.article.name,
                        "metadata": {
                            "article_type_id": str(line.article.article_type),
                            "article_id": str(line.article.article_id),
                            "vat_rate": str(line.article.vat_rate),
                        },
                    },
                },
            }
            for line in lines
        ],
        "client_reference_id": internal_reference_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "expires_at": int((timezone.now() + lifetime).timestamp()),
        "locale": locale,
    }
    if fee:
        params["payment_intent_data"]["application_fee_amount"] = to_stripe_amount(fee, currency)
    params.update(_payment_method_params(stripe_settings))
    params.update({name: url for name, url in vars(redirects).items() if url})
    return params


def _payment_method_params(stripe_settings: StripeCheckoutSettings) -> dict[str, Any]:
    """The company's own list, or its configuration; neither: Stripe's dynamic methods."""
    if stripe_settings.payment_method_types:
        return {"allowed_payment_method_types": stripe_settings.payment_method_types}
    if stripe_settings.payment_method_configuration:
        return {"payment_method_configuration": stripe_settings.payment_method_configuration}
    return {}


def _store_checkout(
    checkout: Checkout,
    *,
    internal_reference_id: str,
    supersedes_an_open_checkout: bool,
    idempotency_claim: ClientIdempotencyKey | None,
) -> Checkout:
    """Store a new session as its payable's current checkout, superseding the older one.

    ``supersedes_an_open_checkout`` is what the create read before its Stripe call.
    If the payable was paid meanwhile, the session is stored superseded by the
    paid checkout instead, so that it is ended on Stripe like any superseded one,
    and ``payable_was_paid`` is set on the checkout returned.
    """
    checkout.payable_was_paid = False
    if not supersedes_an_open_checkout and checkout_inserts.insert_with_payable(
        checkout, internal_reference_id, idempotency_claim
    ):
        return checkout
    return _store_checkout_in_transaction(
        checkout,
        internal_reference_id=internal_reference_id,
        supersedes_an_open_checkout=supersedes_an_open_checkout,
        idempotency_claim=idempotency_claim,
    )


@transaction.atomic
def _store_checkout_in_transaction(
    checkout: Checkout,
    *,
    internal_reference_id: str,
    supersedes_an_open_checkout: bool,
    idempotency_claim: ClientIdempotencyKey | None,
) -> Checkout:
    try:
        with transaction.atomic():
            payable = _lock_payable_and_point_it_at(checkout, internal_reference_id)
    except IntegrityError:
        # The database keeps a paid payable on its paid checkout.
        payable = Payable.objects.select_for_update().get(
            company=checkout.company, internal_reference_id=internal_reference_id
        )
        checkout.payable = payable
        checkout.superseded_by_id = payable.paid_checkout_id
        checkout.superseded_at = timezone.now()
        checkout.stripe_expiry = StripeExpiry.PENDING
        checkout.save(force_insert=True)
        lifecycle.enqueue_expiry_on_commit(payable.paid_checkout_id)
        checkout.payable_was_paid = True
        return checkout

    checkout.payable = payable
    superseded = checkout_inserts.insert_superseding(checkout, idempotency_claim)
    if superseded is None:
        _insert_through_the_orm(
            checkout,
            supersedes_an_open_checkout=supersedes_an_open_checkout,
            idempotency_claim=idempotency_claim,
        )
    elif superseded:
        lifecycle.enqueue_expiry_on_commit(checkout.pk)
    return checkout


def _insert_through_the_orm(
    checkout: Checkout,
    *,
    supersedes_an_open_checkout: bool,
    idempotency_claim: ClientIdempotencyKey | None,
) -> None:
    """``checkout_inserts.insert_superseding``'s writes, elsewhere than PostgreSQL."""
    if supersedes_an_open_checkout:
        # The payable already points at the checkout, so the pre-save hook only
        # supersedes the older one.
        checkout.save(force_insert=True)
    else:
        _insert_superseding_nothing(checkout)
    if idempotency_claim is not None:
        ClientIdempotencyKey.objects.filter(pk=idempotency_claim.pk).update(checkout=checkout)


def _insert_superseding_nothing(checkout: Checkout) -> None:
    """Insert a checkout of a payable that had no open checkout, without the pre-save
    hook's superseding UPDATE.

    If another create stored an open checkout during this one's Stripe call, the
    database refuses a second one; then the checkout is saved through the hook,
    which supersedes it.
    """
    try:
        with transaction.atomic():
            Checkout.objects.bulk_create([checkout])
    except IntegrityError:
        checkout.save(force_insert=True)


def _lock_payable_and_point_it_at(checkout: Checkout, internal_reference_id: str) -> Payable:
    """Get or create the payable, pointed at ``checkout`` and locked until the transaction ends.

    One upsert; ``IntegrityError`` when the payable is already paid.
    """
    (payable,) = Payable.objects.bulk_create(
        [
            Payable(
                company=checkout.company,
                internal_reference_id=internal_reference_id,
                current_checkout_id=checkout.pk,
            )
        ],
        update_conflicts=True,
        unique_fields=["company", "internal_reference_id"],
        update_fields=["current_checkout"],
    )
    return payable


def _snapshot(line: PricedLine) -> CheckoutLine:
    return CheckoutLine(
        article_type=line.article.article_type,
        article_id=line.article.article_id,
        name=line.article.name,
        quantity=line.quantity,
        unit_amount=line.article.unit_amount,
        vat_rate=line.article.vat_rate,
    )


def _already_paid(internal_reference_id: str) -> PayableAlreadyPaid:
    return PayableAlreadyPaid(
        f"InternalReferenceId {internal_reference_id!r} is already paid; "
        "no new checkout was created."
    )


def _replay(checkout: Checkout) -> CheckoutResult:
    """The first response again; the client secret is fetched anew since it is never stored."""
    release_pooled_connection()
    session = stripe_gateway.retrieve_checkout_session(
        account=checkout.connected_account_id, session_id=checkout.stripe_session_id
    )
    return CheckoutResult(checkout=checkout, session=session, replayed=True)


def _end_unrecorded_session(account: str, session_id: str) -> None:
    try:
        stripe_gateway.expire_checkout_session(account=account, session_id=session_id)
    except StripeGatewayError:
        logger.exception("Could not expire unrecorded Stripe session %s", session_id)
