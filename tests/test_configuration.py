"""Configuration comes from the environment, with safe defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'hosts': s.ALLOWED_HOSTS, "
    "'stripe_base': s.STRIPE_API_BASE}))"
)


def load_settings(**environ):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "STRIPE_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="bokacheckout.settings", **environ)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_a_secret_key_the_service_refuses_to_start():
    result = load_settings()

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_and_sqlite_is_the_default_database():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50)

    loaded = json.loads(result.stdout)
    assert loaded["debug"] is False
    assert loaded["db"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(ROOT / "db.sqlite3")


def test_debug_may_run_without_a_secret_key():
    result = load_settings(DJANGO_DEBUG="1")

    assert json.loads(result.stdout)["debug"] is True


def test_database_hosts_and_stripe_base_come_from_the_environment():
    result = load_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@db.internal:5432/bokacheckout",
        DJANGO_ALLOWED_HOSTS="pay.example.com, api.example.com",
        STRIPE_API_BASE="http://127.0.0.1:12111",
    )

    loaded = json.loads(result.stdout)
    assert loaded["db"] == "django.db.backends.postgresql"
    assert loaded["hosts"] == ["pay.example.com", "api.example.com"]
    assert loaded["stripe_base"] == "http://127.0.0.1:12111"
