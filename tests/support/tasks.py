"""A task backend for tests: the worker process dies the moment a task is enqueued."""

from django_tasks.backends.base import BaseTaskBackend


class KilledOnEnqueueBackend(BaseTaskBackend):
    """Stands for a server killing its worker right after a transaction committed."""

    def enqueue(self, task, args, kwargs):
        raise SystemExit("worker killed")
