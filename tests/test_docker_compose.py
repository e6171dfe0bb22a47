"""docker-compose.yml wires PostgreSQL, Redis, the service, its worker and the emulator together."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import dev

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_ENV = {
    "POSTGRES_PASSWORD": "compose-test",
    "DJANGO_SECRET_KEY": "compose-test",
    "STRIPE_WEBHOOK_SECRET": "whsec_compose_test",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_service_waits_for_a_healthy_database(compose):
    web, db = compose["services"]["web"], compose["services"]["db"]

    assert db["healthcheck"]["test"]
    assert web["depends_on"]["db"] == {"condition": "service_healthy"}
    assert "@db:5432/" in web["environment"]["DATABASE_URL"]


def test_the_service_shares_its_throttle_counts_in_a_healthy_redis(compose):
    web, redis = compose["services"]["web"], compose["services"]["redis"]

    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"]
    assert web["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_redis_keeps_nothing_on_disk(compose):
    command = compose["services"]["redis"]["command"]

    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"
    assert "volumes" not in compose["services"]["redis"]


def test_the_service_migrates_then_runs_under_gunicorn(compose):
    command = compose["services"]["web"]["command"]

    assert command.index("migrate") < command.index("gunicorn")


def test_a_worker_runs_the_queued_tasks_from_the_service_image(compose):
    worker, web = compose["services"]["worker"], compose["services"]["web"]

    assert worker["build"] == web["build"]
    assert "manage.py db_worker" in worker["command"]
    assert worker["environment"] == web["environment"]


def test_the_worker_starts_once_the_database_is_healthy_and_migrated(compose):
    worker = compose["services"]["worker"]
    command = worker["command"]

    assert worker["depends_on"]["db"] == {"condition": "service_healthy"}
    # web migrates on start; the worker waits until no migration is left, then runs.
    assert "until python manage.py migrate --check" in command
    assert command.index("migrate --check") < command.index("db_worker")


def test_the_worker_looks_for_new_tasks_as_often_as_under_dev_py_run(compose):
    # Often enough that superseded sessions end on Stripe within 2 s of the create.
    command = compose["services"]["worker"]["command"]

    assert f"--interval {dev.WORKER_POLL_SECONDS} " in command


def test_the_service_talks_to_the_emulator(compose):
    web, emulator = compose["services"]["web"], compose["services"]["emulator"]

    assert emulator["command"][:3] == ["python", "-m", "stripe_emulator"]
    assert "--port=12111" in emulator["command"]
    assert web["environment"]["STRIPE_API_BASE"].endswith("http://emulator:12111}")
    assert "emulator" in web["depends_on"]


def test_the_emulator_sends_signed_webhooks_to_the_service(compose):
    web, emulator = compose["services"]["web"], compose["services"]["emulator"]

    assert "--webhook-url=http://web:8000/payment/stripe/v1/webhook" in emulator["command"]
    secret = next(arg for arg in emulator["command"] if arg.startswith("--webhook-secret="))
    assert secret.removeprefix("--webhook-secret=") == web["environment"]["STRIPE_WEBHOOK_SECRET"]
    # The emulator calls the service by its compose name, which the service must accept.
    assert "web" in web["environment"]["DJANGO_ALLOWED_HOSTS"].split(":-")[1].rstrip("}").split(",")


def test_the_service_and_the_emulator_build_from_their_own_dockerfile_stages(compose):
    web, emulator = compose["services"]["web"], compose["services"]["emulator"]

    assert web["build"] == {"context": ".", "target": "service"}
    assert emulator["build"] == {"context": ".", "target": "emulator"}


def dockerfile_stages() -> dict[str, list[str]]:
    """Each ``FROM ... AS name`` stage of the Dockerfile, with its instructions."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            current = stages.setdefault(line.split(" AS ")[-1].strip(), [])
        elif line.strip() and not line.startswith("#"):
            current.append(line)
    return stages


def test_the_service_image_copies_no_emulator_code():
    service = dockerfile_stages()["service"]

    assert any(line.startswith("COPY checkouts") for line in service)
    assert not [line for line in service if "stripe_emulator" in line]


def test_the_emulator_image_copies_no_product_code():
    emulator = dockerfile_stages()["emulator"]

    copied = [line.split()[1] for line in emulator if line.startswith("COPY ")]
    assert copied
    assert all(source.startswith("stripe_emulator") for source in copied)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs Debian's docker-compose")
def test_docker_compose_validates_the_file():
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env={**os.environ, **COMPOSE_ENV},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
