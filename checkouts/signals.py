"""Signal receivers of the checkouts app, connected from ``CheckoutsConfig.ready``."""

from django.db import connection
from django.db.models.signals import pre_save
from django.db.transaction import TransactionManagementError


def supersede_older_checkouts(sender, instance, raw: bool, **kwargs) -> None:
    """A new open checkout becomes its payable's current one and supersedes the older ones.

    Before the insert, not after it: the database allows one open checkout
    per payable that nothing supersedes, so the older one steps aside first.
    Their sessions are ended on Stripe once the transaction commits.
    ``bulk_create`` fires no signal, and then the database refuses a second
    open checkout.
    """
    from checkouts.lifecycle import make_current
    from checkouts.models import CheckoutStatus

    adding_an_open_checkout = (
        instance._state.adding
        and instance.status == CheckoutStatus.OPEN
        and instance.superseded_by_id is None
    )
    if not adding_an_open_checkout or raw:
        return
    if not connection.in_atomic_block:
        # The older checkouts point at this one before it exists; only the
        # transaction's end checks that reference.
        raise TransactionManagementError("Save a new checkout inside transaction.atomic().")
    make_current(instance)


def connect() -> None:
    from checkouts.models import Checkout

    pre_save.connect(
        supersede_older_checkouts,
        sender=Checkout,
        dispatch_uid="checkouts.supersede_older_checkouts",
    )
