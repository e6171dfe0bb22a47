"""Client ``Idempotency-Key`` handling: one key, one body, one checkout, for 24 hours."""

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from articles.models import Company
from checkouts.constants import IDEMPOTENCY_CLAIM_TIMEOUT, IDEMPOTENCY_KEY_TTL
from checkouts.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from checkouts.models import ClientIdempotencyKey


def request_fingerprint(request: dict[str, Any]) -> str:
    """A digest of the validated request, so the same body in another spelling still matches."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def claim_idempotency_key(*, company: Company, key: str, fingerprint: str) -> ClientIdempotencyKey:
    """Claim ``key`` for a request, or return the earlier claim whose checkout should be replayed.

    Raises ``IdempotencyKeyReused`` for a different body and ``IdempotencyKeyInUse``
    while the first request is still being served.
    """
    now = timezone.now()
    record, created = ClientIdempotencyKey.objects.select_for_update().get_or_create(
        company=company, key=key, defaults={"request_fingerprint": fingerprint}
    )
    if created:
        return record
    expired = record.created_at < now - IDEMPOTENCY_KEY_TTL
    abandoned = record.checkout_id is None and record.created_at < now - IDEMPOTENCY_CLAIM_TIMEOUT
    if expired or abandoned:
        record.request_fingerprint = fingerprint
        record.checkout = None
        record.created_at = now
        record.save(update_fields=["request_fingerprint", "checkout", "created_at"])
        return record
    if record.checkout_id is None:
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
    """Free a claim whose request failed, so the client may retry with the same key."""
    ClientIdempotencyKey.objects.filter(pk=record.pk, checkout__isnull=True).delete()
