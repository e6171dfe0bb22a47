"""dev.py run keeps two worlds side by side: the service's db.sqlite3 and the emulator's state.

The emulator keeps its state in a file beside the database (tests/stripe_emulator/
test_state_file.py shows a restart remembering it), so restarting ``run`` finds
every session the database knows about. The two start together.
"""

from pathlib import Path

import dev


def test_run_keeps_the_emulators_state_beside_the_default_database(settings):
    default_database = Path(settings.BASE_DIR) / "db.sqlite3"

    assert (dev.DATABASE, dev.EMULATOR_STATE.parent) == (default_database, default_database.parent)


def test_a_new_database_starts_the_emulator_with_no_state_too(tmp_path):
    state = tmp_path / "stripe-emulator.json"
    state.write_text("{}")

    dev.pair_emulator_state(database=tmp_path / "db.sqlite3", state=state, env={})

    assert not state.exists()


def test_an_existing_database_keeps_the_emulators_state(tmp_path):
    database, state = tmp_path / "db.sqlite3", tmp_path / "stripe-emulator.json"
    database.write_bytes(b"")
    state.write_text("{}")

    dev.pair_emulator_state(database=database, state=state, env={})

    assert state.read_text() == "{}"


def test_a_database_without_the_emulators_state_is_pointed_out(tmp_path, capsys):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"")

    dev.pair_emulator_state(database=database, state=tmp_path / "stripe-emulator.json", env={})

    assert "To start both afresh, delete db.sqlite3" in capsys.readouterr().out


def test_with_another_database_the_state_is_left_alone(tmp_path):
    state = tmp_path / "stripe-emulator.json"
    state.write_text("{}")

    dev.pair_emulator_state(
        database=tmp_path / "db.sqlite3",
        state=state,
        env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/bokacheckout"},
    )

    assert state.exists()


def test_run_starts_the_task_queues_worker_beside_the_service_and_the_emulator():
    commands = dev.run_commands(
        base_url="http://127.0.0.1:8000",
        env={"STRIPE_WEBHOOK_SECRET": "whsec_test"},
        use_emulator=True,
    )

    started = [command[1:3] for command in commands]
    assert started == [
        ["-m", "stripe_emulator"],
        ["manage.py", "runserver"],
        ["manage.py", "db_worker"],
    ]


def test_with_real_stripe_run_starts_the_worker_and_no_emulator():
    commands = dev.run_commands(base_url="http://127.0.0.1:8000", env={}, use_emulator=False)

    assert [command[1:3] for command in commands] == [
        ["manage.py", "runserver"],
        ["manage.py", "db_worker"],
    ]


def test_the_worker_looks_for_new_tasks_twice_a_second():
    # A superseded session must end on Stripe within 2 s of the create; an idle worker
    # finds the task within this interval (benchmarks/work_per_create.py measures it).
    command = dev.worker_command()

    assert command[command.index("--interval") + 1] == "0.5"
