#!/usr/bin/env python3
"""The README's commands, needing nothing but Python 3.11+.

    python3 dev.py run              # the service on SQLite, its worker, the emulator, demo data
    python3 dev.py test [ARGS]      # the whole test suite (extra arguments go to pytest)
    python3 dev.py manage COMMAND   # a manage.py command, in run's environment
    python3 dev.py python [ARGS]    # the project's Python (.venv/bin/python)

Each first makes ``.venv`` and installs the project into it when
``pyproject.toml`` has changed since the last install. ``run`` and ``manage``
set DJANGO_DEBUG=1 and point Stripe at the emulator (port STRIPE_EMULATOR_PORT,
default 12111) unless STRIPE_SECRET_KEY is set without STRIPE_API_BASE; the
service listens on PORT (default 8000).
"""

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
INSTALL_STAMP = VENV / ".installed-pyproject-sha256"

SERVICE_PORT = int(os.environ.get("PORT", "8000"))
EMULATOR_PORT = int(os.environ.get("STRIPE_EMULATOR_PORT", "12111"))
# How long the idle worker waits before it looks for new tasks again: a superseded
# session then ends on Stripe within 2 s of the create (README, "Background work").
WORKER_POLL_SECONDS = "0.5"
# run's two worlds, kept side by side: the service's database and the emulator's state.
DATABASE = ROOT / "db.sqlite3"
EMULATOR_STATE = ROOT / "stripe-emulator.json"


def ensure_environment() -> None:
    """Create the virtualenv and install the project (with test tools) if needed."""
    if not VENV_PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text() == wanted:
        return
    print("Installing dependencies into .venv ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
    INSTALL_STAMP.write_text(wanted)


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs
    )


def uses_emulator() -> bool:
    return "STRIPE_SECRET_KEY" not in os.environ or "STRIPE_API_BASE" in os.environ


def development_environment() -> dict[str, str]:
    """The environment of ``run`` and ``manage``: DEBUG on, the demo pages, and the
    emulator's Stripe unless a real key is set; whatever is already set wins."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"),
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", secrets.token_urlsafe(50)),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", "sk_test_emulator"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_emulator_demo"),
        "DJANGO_DEMO_PAGES": os.environ.get("DJANGO_DEMO_PAGES", "1"),
        # The service speaks plain http on localhost, even with DJANGO_DEBUG off.
        "DJANGO_SECURE_SSL_REDIRECT": os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "0"),
    }
    if uses_emulator():
        env.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{EMULATOR_PORT}")
    return env


def pair_emulator_state(*, database: Path, state: Path, env: dict[str, str]) -> None:
    """Start the emulator's state and the database together: the emulator forgets its
    state when the database is new (a fresh clone, or db.sqlite3 deleted to start over),
    and a database made before the emulator kept any state gets a warning."""
    if "DATABASE_URL" in env:
        return
    if not database.exists():
        state.unlink(missing_ok=True)
    elif not state.exists():
        print(
            f"Note: {database.name} has no {state.name} beside it, so the emulator does not "
            f"know the checkouts made before. To start both afresh, delete {database.name}.",
            flush=True,
        )


def stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def run() -> int:
    # A plain `kill` should stop the emulator and the service too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    env = development_environment()
    use_emulator = uses_emulator()
    if use_emulator:
        pair_emulator_state(database=DATABASE, state=EMULATOR_STATE, env=env)

    manage("migrate", "--noinput", env=env, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{SERVICE_PORT}"
    # A new password for the demo staff login on every run, printed below.
    staff_password = secrets.token_urlsafe(12)
    seeded = manage(
        "seed_demo",
        "--json",
        "--base-url",
        base_url,
        # One argument with "=": a password may start with "-".
        f"--staff-password={staff_password}",
        env=env,
        capture_output=True,
        text=True,
    )
    demo = json.loads(seeded.stdout)
    demo["StaffPassword"] = staff_password

    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env)
        for command in run_commands(base_url=base_url, env=env, use_emulator=use_emulator)
    ]
    print_welcome(demo, base_url, env)
    try:
        return max(process.wait() for process in processes)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait()


def run_commands(*, base_url: str, env: dict[str, str], use_emulator: bool) -> list[list[str]]:
    """What ``run`` starts side by side, and stops together: the emulator (unless Stripe
    is real), the service and the task queue's worker."""
    commands = []
    if use_emulator:
        commands.append(
            [
                str(VENV_PYTHON),
                "-m",
                "stripe_emulator",
                "--port",
                str(EMULATOR_PORT),
                "--state-file",
                str(EMULATOR_STATE),
                "--webhook-url",
                f"{base_url}/payment/stripe/v1/webhook",
                "--webhook-secret",
                env["STRIPE_WEBHOOK_SECRET"],
            ]
        )
    commands.append(
        [str(VENV_PYTHON), "manage.py", "runserver", "--noreload", f"127.0.0.1:{SERVICE_PORT}"]
    )
    commands.append(worker_command())
    return commands


def worker_command() -> list[str]:
    """``manage.py db_worker``: it runs the tasks the service queues in its database."""
    return [
        str(VENV_PYTHON),
        "manage.py",
        "db_worker",
        "--interval",
        WORKER_POLL_SECONDS,
        "--no-reload",
    ]


def print_welcome(demo: dict, base_url: str, env: dict[str, str]) -> None:
    article = demo["Articles"][0]
    body = {
        "CompanyId": demo["CompanyId"],
        "CountryCode": "SE",
        "Articles": [
            {
                "ArticleId": article["ArticleId"],
                "ArticleTypeId": article["ArticleTypeId"],
                "Quantity": 1,
            }
        ],
        "InternalReferenceId": "demo-booking-1",
        "UiMode": "hosted",
    }
    stripe = env.get("STRIPE_API_BASE") or "real Stripe"
    embedded_note = ""
    if not env.get("STRIPE_API_BASE") and not env.get("STRIPE_PUBLISHABLE_KEY"):
        embedded_note = "\n  (Set STRIPE_PUBLISHABLE_KEY for the demo page's embedded mode.)"
    print(
        f"""
bokacheckout is starting at {base_url} (Stripe: {stripe})

  Demo company: {demo["CompanyId"]}
  API key (shown once): {demo["ApiKey"]}

  Demo page: {base_url}/demo/#key={demo["ApiKey"]}{embedded_note}
  Admin:     {base_url}/admin/  (user {demo["StaffUsername"]}, password {demo["StaffPassword"]})
  API docs:  {base_url}/docs/

Try the seed's request:

  curl -s -X POST {base_url}/payment/stripe/v1/checkout \\
    -H 'X-Api-Key: {demo["ApiKey"]}' -H 'Content-Type: application/json' \\
    -d '{json.dumps(body)}'

Add -H 'Accept: text/csv' or use /payment/stripe/v1/checkout.xml for other formats.
Press Ctrl-C to stop.
""",
        flush=True,
    )


def test(pytest_args: list[str]) -> int:
    return subprocess.run([str(VENV_PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def manage_command(args: list[str]) -> int:
    return passthrough(
        [str(VENV_PYTHON), "manage.py", *args], cwd=ROOT, env=development_environment()
    )


def python(args: list[str]) -> int:
    return passthrough([str(VENV_PYTHON), *args])


def passthrough(command: list[str], **kwargs) -> int:
    """Run ``command`` in the foreground; its exit status (Ctrl-C reaches it too)."""
    try:
        return subprocess.run(command, **kwargs).returncode
    except KeyboardInterrupt:
        return 130


COMMANDS = {
    "run": lambda args: run(),
    "test": test,
    "manage": manage_command,
    "python": python,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    ensure_environment()
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
