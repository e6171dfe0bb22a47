"""Read-only queries of the checkouts app."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Model, Q, QuerySet

from articles.models import Article, Company, StripeCheckoutSettings
from bokacheckout.connections import preparing_cursor
from checkouts.models import Checkout, CheckoutStatus, CompanyApiKey, Payable

# The payment log's pages: ``Take`` rows at most, and ``Total`` counted exactly up to
# ``Skip`` plus this many rows (beyond that, it is a lower bound).
PAYMENT_LOG_DEFAULT_TAKE = 100
PAYMENT_LOG_MAX_TAKE = 1000
PAYMENT_LOG_COUNT_CAP = 10_000
# Checkouts read at a time by ``in_creation_order`` (the admin's payment log export).
CREATION_ORDER_BATCH = 2000


# A request's API key with its company and Stripe settings, in one statement written out:
# through the ORM (get() with select_related), compiling it took a quarter of a create's
# CPU, more than the statement itself.
API_KEY_WITH_COMPANY = """
SELECT {columns}
FROM {api_key} AS api_key
JOIN {company} AS company ON company.id = api_key.company_id
LEFT JOIN {stripe_settings} AS stripe_settings ON stripe_settings.company_id = company.id
WHERE api_key.prefix = %s AND NOT api_key.revoked
"""
_API_KEY_ROW = (
    ("api_key", CompanyApiKey),
    ("company", Company),
    ("stripe_settings", StripeCheckoutSettings),
)


def usable_api_key(key: str) -> CompanyApiKey:
    """The unrevoked API key ``key`` is, with its company and the company's Stripe settings
    (``company.stripe_settings``, if it has them); ``CompanyApiKey.DoesNotExist`` if there
    is none. Compared by hash, as djangorestframework-api-key's ``get_from_key`` does."""
    database = connections[DEFAULT_DB_ALIAS]
    quote = database.ops.quote_name
    sql = API_KEY_WITH_COMPANY.format(
        columns=", ".join(
            f"{alias}.{quote(field.column)}"
            for alias, model in _API_KEY_ROW
            for field in model._meta.concrete_fields
        ),
        api_key=quote(CompanyApiKey._meta.db_table),
        company=quote(Company._meta.db_table),
        stripe_settings=quote(StripeCheckoutSettings._meta.db_table),
    )
    with preparing_cursor() as cursor:
        cursor.execute(sql, [key.partition(".")[0]])
        row = cursor.fetchone()
    if row is None:
        raise CompanyApiKey.DoesNotExist
    values = iter(row)
    api_key, company, stripe_settings = (
        _instance(database, model, [next(values) for _ in model._meta.concrete_fields])
        for _, model in _API_KEY_ROW
    )
    if stripe_settings.pk is None:  # the LEFT JOIN found none
        stripe_settings = None
    CompanyApiKey.company.field.set_cached_value(api_key, company)
    Company.stripe_settings.related.set_cached_value(company, stripe_settings)
    if not api_key.is_valid(key):
        raise CompanyApiKey.DoesNotExist("Key is not valid.")
    return api_key


def _instance(database: BaseDatabaseWrapper, model: type[Model], values: list) -> Model:
    """A model instance from its concrete fields' column values, as the ORM converts them."""
    attnames, converters = _conversions(model, database.ops)
    converted = []
    for (column, field_converters), value in zip(converters, values, strict=True):
        if value is not None:
            for converter in field_converters:
                value = converter(value, column, database)
        converted.append(value)
    return model.from_db(database.alias, attnames, converted)


# Room for a few models on each of several hundred threads' connections; bounded, since a
# threaded development server has a connection per request.
@lru_cache(maxsize=1024)
def _conversions(model: type[Model], operations: BaseDatabaseOperations) -> tuple[list, list]:
    """``model``'s attribute names, and each column's converters (the backend's, then the
    field's), as the ORM's compiler finds them; once per model and per thread's connection
    (converters may be bound to it), since finding them cost more than converting."""
    fields = model._meta.concrete_fields
    columns = [field.get_col(model._meta.db_table) for field in fields]
    return [field.attname for field in fields], [
        (
            column,
            operations.get_db_converters(column) + column.get_db_converters(operations.connection),
        )
        for column in columns
    ]


def company_exists(company_id: UUID) -> bool:
    return Company.objects.filter(pk=company_id).exists()


@dataclass(frozen=True)
class CatalogueForCheckout:
    """What a create reads before it calls Stripe."""

    articles: dict[tuple[int, int], Article]
    payable_is_paid: bool
    # Whether the payable had a checkout a customer could still pay, which the new one
    # supersedes; only a hint, since another create may store one during the Stripe call.
    payable_has_open_checkout: bool


# The catalogue and the payable's state in one statement, written out: built with the ORM
# (a filter, two EXISTS annotations and a subquery), it took a quarter of a create's CPU.
# The open checkout is looked up by "= (the payable's id)", not "IN": PostgreSQL then
# finds it by the payable, where with IN it may scan every open checkout for it. The
# status is written in, not a parameter, so that the statement, prepared, can still use
# the partial index of open checkouts.
CATALOGUE_FOR_CHECKOUT = """
SELECT {article_columns},
    EXISTS (
        SELECT 1 FROM {payable} AS payable
        WHERE payable.company_id = %(company)s
            AND payable.internal_reference_id = %(reference)s
            AND payable.paid_checkout_id IS NOT NULL
    ) AS payable_is_paid,
    EXISTS (
        SELECT 1 FROM {checkout} AS checkout
        WHERE checkout.payable_id = (
                SELECT payable.id FROM {payable} AS payable
                WHERE payable.company_id = %(company)s
                    AND payable.internal_reference_id = %(reference)s
            )
            AND checkout.status = {open}
            AND checkout.superseded_by_id IS NULL
    ) AS payable_has_open_checkout
FROM {article} AS article
WHERE article.company_id = %(company)s AND article.article_id IN ({article_ids})
"""


def catalogue_for_checkout(
    company: Company, keys: Iterable[tuple[int, int]], internal_reference_id: str
) -> CatalogueForCheckout:
    """The company's articles among (ArticleTypeId, ArticleId) ``keys``, and the payable's
    state, in one query: each article row carries whether the payable is paid and whether
    it has an open checkout.

    With no matching article the request is refused anyway, so the state is not needed.
    """
    keys = set(keys)
    article_ids = sorted({article_id for _, article_id in keys})
    if not article_ids:
        return CatalogueForCheckout(
            articles={}, payable_is_paid=False, payable_has_open_checkout=False
        )
    database = connections[DEFAULT_DB_ALIAS]
    params: dict[str, object] = {
        "company": Company._meta.pk.get_db_prep_value(company.pk, database),
        "reference": internal_reference_id,
    }
    params.update({f"article_{index}": article_id for index, article_id in enumerate(article_ids)})
    quote = database.ops.quote_name
    article_fields = Article._meta.concrete_fields
    sql = CATALOGUE_FOR_CHECKOUT.format(
        article_columns=", ".join(f"article.{quote(field.column)}" for field in article_fields),
        payable=quote(Payable._meta.db_table),
        checkout=quote(Checkout._meta.db_table),
        article=quote(Article._meta.db_table),
        open=f"'{CheckoutStatus.OPEN.value}'",
        article_ids=", ".join(f"%(article_{index})s" for index in range(len(article_ids))),
    )
    with preparing_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    articles = [_instance(database, Article, row[: len(article_fields)]) for row in rows]
    payable_state = [row[len(article_fields) :] for row in rows]
    return CatalogueForCheckout(
        articles={
            (article.article_type, article.article_id): article
            for article in articles
            if (article.article_type, article.article_id) in keys
        },
        payable_is_paid=any(bool(is_paid) for is_paid, _ in payable_state),
        payable_has_open_checkout=any(bool(has_open) for _, has_open in payable_state),
    )


def checkout_of_company(company: Company, session_id: str) -> Checkout:
    """The company's checkout for a Stripe session id; ``Checkout.DoesNotExist`` otherwise."""
    return Checkout.objects.select_related("payable").get(
        company=company, stripe_session_id=session_id
    )


def checkout_to_refund(
    company: Company, *, session_id: str | None = None, internal_reference_id: str | None = None
) -> Checkout:
    """The checkout a refund names: its session, or the payable's paid checkout (else its
    current one, which is then refused as not paid). ``Checkout.DoesNotExist`` if the
    company has no such checkout; with both, the session must be the payable's."""
    checkouts = Checkout.objects.select_related("payable", "company__stripe_settings").filter(
        company=company
    )
    if internal_reference_id is not None:
        checkouts = checkouts.filter(payable__internal_reference_id=internal_reference_id)
    if session_id is not None:
        return checkouts.get(stripe_session_id=session_id)
    payable = Payable.objects.filter(
        company=company, internal_reference_id=internal_reference_id
    ).first()
    if payable is None:
        raise Checkout.DoesNotExist
    chosen = payable.paid_checkout_id or payable.current_checkout_id
    return checkouts.get(pk=chosen) if chosen else checkouts.latest("created_at")


@dataclass(frozen=True)
class PaymentLogPage:
    """One page of a company's checkouts, oldest first, and how many match in all."""

    offset: int
    total: int
    total_is_lower_bound: bool
    results: list[Checkout]


def payment_log(
    company: Company,
    *,
    skip: int = 0,
    take: int = PAYMENT_LOG_DEFAULT_TAKE,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    internal_reference_id: str | None = None,
    payment_status: str | None = None,
) -> PaymentLogPage:
    """The company's checkouts created in [``created_from``, ``created_to``), oldest first.

    The page's ids are read from the (company, created_at, id) index alone, then only
    those rows; ``total`` counts at most ``skip + PAYMENT_LOG_COUNT_CAP`` rows, so a page
    never costs a scan of every match.
    """
    matching = _payment_log_rows(
        company, created_from, created_to, internal_reference_id, payment_status
    )
    ordering = ("created_at", "id")
    page_ids = list(matching.order_by(*ordering).values_list("pk", flat=True)[skip : skip + take])
    results = list(
        Checkout.objects.filter(pk__in=page_ids).select_related("payable").order_by(*ordering)
    )
    limit = skip + PAYMENT_LOG_COUNT_CAP
    counted = matching.order_by().values("pk")[: limit + 1].count()
    return PaymentLogPage(
        offset=skip,
        total=min(counted, limit),
        total_is_lower_bound=counted > limit,
        results=results,
    )


def payables_with_reference(reference: str) -> QuerySet[Payable]:
    """The payables (of any company) whose internal reference is ``reference``, whole.

    Whole, spaces included, not its start: the payables a short start matches could not
    be found by an index and listed newest first without reading every one of them.
    """
    return Payable.objects.filter(internal_reference_id=reference)


def in_creation_order(
    checkouts: QuerySet[Checkout], batch_size: int = CREATION_ORDER_BATCH
) -> Iterator[Checkout]:
    """``checkouts``, oldest first, read ``batch_size`` at a time, each batch picking up
    on the (created_at, id) index after the last row of the one before.

    No query reads more than a batch, and none stays open between batches: a server-side
    cursor would, and outside a transaction PostgreSQL computes its whole result (a
    million rows) before the first comes back.
    """
    after = Q()
    while True:
        batch = list(checkouts.filter(after).order_by("created_at", "id")[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last = batch[-1]
        after = Q(created_at__gte=last.created_at) & (
            Q(created_at__gt=last.created_at) | Q(id__gt=last.id)
        )


def _payment_log_rows(
    company: Company,
    created_from: datetime | None,
    created_to: datetime | None,
    internal_reference_id: str | None,
    payment_status: str | None,
) -> QuerySet[Checkout]:
    matching = Checkout.objects.filter(company=company)
    if created_from is not None:
        matching = matching.filter(created_at__gte=created_from)
    if created_to is not None:
        matching = matching.filter(created_at__lt=created_to)
    if internal_reference_id is not None:
        payable = Payable.objects.filter(
            company=company, internal_reference_id=internal_reference_id
        )
        matching = matching.filter(payable__in=payable.values("pk"))
    if payment_status is not None:
        matching = matching.filter(payment_status=payment_status)
    return matching
