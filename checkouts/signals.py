"""Signal receivers of the checkouts app, connected from ``CheckoutsConfig.ready``."""

from django.db.models.signals import post_save


def supersede_older_checkouts_on_create(
    sender, instance, created: bool, raw: bool, **kwargs
) -> None:
    """A new checkout replaces every earlier open checkout of its payable."""
    if not created or raw:
        return
    from checkouts.lifecycle import supersede_other_open_checkouts

    supersede_other_open_checkouts(instance)


def connect() -> None:
    from checkouts.models import Checkout

    post_save.connect(
        supersede_older_checkouts_on_create,
        sender=Checkout,
        dispatch_uid="checkouts.supersede_older_checkouts_on_create",
    )
