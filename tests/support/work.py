"""What one request costs: its SQL statements and the Stripe calls the emulator received."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

from stripe_emulator import StripeEmulator

# Not counted as statements: they only open and close transactions and savepoints.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_WRITTEN_TABLE = re.compile(r'\b(INSERT INTO|UPDATE|DELETE FROM) "(\w+)"')


@dataclass
class Work:
    """Filled in when the ``measured_work`` block ends."""

    statements: list[str] = field(default_factory=list)
    stripe_calls: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        """Each write as ``"INSERT INTO table"``, ``"UPDATE table"``..., in the order
        written, a statement's own (a data-modifying ``WITH``) included."""
        return [
            f"{match[1]} {match[2]}"
            for statement in self.statements
            for match in _WRITTEN_TABLE.finditer(statement)
        ]


@contextmanager
def measured_work(emulator: StripeEmulator) -> Iterator[Work]:
    """The statements run on this thread's connection (on-commit work included) and the
    Stripe calls (``"POST /v1/checkout/sessions"``) made during the block."""
    work = Work()
    calls_before = len(emulator.requests)
    with CaptureQueriesContext(connection) as captured:
        yield work
    work.statements = [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]
    work.stripe_calls = [
        f"{request.method} {request.path}" for request in emulator.requests[calls_before:]
    ]
