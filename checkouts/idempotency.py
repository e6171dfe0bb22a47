"""Client ``Idempotency-Key`` handling: one key, one body, one result (a checkout or a
refund), for 24 hours."""

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Company
from checkouts.constants import IDEMPOTENCY_CLAIM_TIMEOUT, IDEMPOTENCY_KEY_TTL
from checkouts.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from checkouts.models import ClientIdempotencyKey


def request_fingerprint(request: dict[str, Any]) -> str:
    """A digest of the validated request, so the same body in another spelling still matches."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_idempotency_key(*, company: Company, key: str, fingerprint: str) -> ClientIdempotencyKey:
    """Claim ``key`` for a request, or return the earlier claim whose result should be replayed
    (``record.answered``).

    Raises ``IdempotencyKeyReused`` for a different body and ``IdempotencyKeyInUse``
    while the first request is still being served.
    """
    try:
        with transaction.atomic():
            # A new key, the usual case, costs one INSERT; the unique key refuses a
            # second claim of it.
            return ClientIdempotencyKey.objects.create(
                company=company, key=key, request_fingerprint=fingerprint
            )
    except IntegrityError:
        return _claim_used_key(company=company, key=key, fingerprint=fingerprint)


@transaction.atomic
def _claim_used_key(*, company: Company, key: str, fingerprint: str) -> ClientIdempotencyKey:
    """Claim a key seen before, under its row lock, if it expired or was abandoned; otherwise
    the earlier claim, or the reason it cannot be replayed."""
    now = timezone.now()
    record, created = ClientIdempotencyKey.objects.select_for_update().get_or_create(
        company=company, key=key, defaults={"request_fingerprint": fingerprint}
    )
    if created:
        return record
    expired = record.created_at < now - IDEMPOTENCY_KEY_TTL
    abandoned = not record.answered and record.created_at < now - IDEMPOTENCY_CLAIM_TIMEOUT
    if expired or abandoned:
        record.request_fingerprint = fingerprint
        record.checkout = None
        record.refund = None
        record.created_at = now
        record.save(update_fields=["request_fingerprint", "checkout", "refund", "created_at"])
        return record
    if not record.answered:
        raise IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        )
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new request."
        )
    return record


def release_idempotency_key(record: ClientIdempotencyKey) -> None:
    """Free a claim whose request failed before making anything, so the client may retry
    with the same key."""
    ClientIdempotencyKey.objects.filter(
        pk=record.pk, checkout__isnull=True, refund__isnull=True
    ).delete()


def forget_idempotency_key(record: ClientIdempotencyKey) -> None:
    """Free a claim whose request made something that came to nothing (a refund Stripe
    refused), so the client may retry with the same key."""
    ClientIdempotencyKey.objects.filter(pk=record.pk).delete()
