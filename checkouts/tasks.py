"""Background work of the checkouts app, on Django's Tasks framework (the django-tasks backport).

A create answers after one Stripe call; ending the sessions it superseded is
this task's job, enqueued once the create commits. What the queue loses (a
crash between commit and enqueue, a worker killed mid-task) is still pending
in the database, and ``manage.py expire_checkouts`` ends it.
"""

from uuid import UUID

from django.utils import timezone
from django_tasks import task

from checkouts.expiry import ExpiryRun, expire_due_checkouts


@task()
def expire_superseded_checkouts(*, superseded_by: str) -> str:
    """End on Stripe the sessions ``superseded_by`` replaced; failures stay pending."""
    run = ExpiryRun(now=timezone.now(), superseded_by=UUID(superseded_by), concurrency=1)
    return expire_due_checkouts(run).summary()
