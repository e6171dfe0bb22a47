"""The task queue's real worker, ``manage.py db_worker``, in a process of its own beside a
test or a benchmark: on this process's database, calling the given Stripe."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url() -> str:
    """This process's database as a ``DATABASE_URL`` (a test's own database, in a test)."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{database['NAME']}"


def worker_environment(*, stripe_api_base: str, stripe_secret_key: str) -> dict[str, str]:
    """The production settings, with the database queue, this database and that Stripe."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bokacheckout.settings",
        "DJANGO_SECRET_KEY": "worker-beside-a-test-or-benchmark",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "STRIPE_API_BASE": stripe_api_base,
        "STRIPE_SECRET_KEY": stripe_secret_key,
        "LOG_LEVEL": "WARNING",
    }


def db_worker_command(*options: str) -> list[str]:
    return [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", *options]


def run_queued_tasks(*, stripe_api_base: str, stripe_secret_key: str) -> None:
    """Run every queued task in a real worker process (``db_worker --batch``), then return."""
    subprocess.run(
        db_worker_command("--batch"),
        cwd=ROOT,
        env=worker_environment(
            stripe_api_base=stripe_api_base, stripe_secret_key=stripe_secret_key
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
