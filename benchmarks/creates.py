"""Benchmark: creates per second, latency and CPU per create, the project beside its floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bokacheckout \\
        .venv/bin/python benchmarks/creates.py [--clients 64] [--latency 0.3] [--rounds 3]

Both targets run under the production server's settings (gunicorn -c gunicorn.conf.py,
WEB_CONCURRENCY x GUNICORN_THREADS), against the same Stripe emulator with the same
latency, each on a throwaway PostgreSQL database beside DATABASE_URL's:

- floor: a bare DRF view (benchmarks/floor/) that parses the same JSON body, makes the
  same one Checkout Session create with the official SDK and inserts one row;
- project: POST /payment/stripe/v1/checkout with an API key, for a new booking each time.

The load is CLIENTS keep-alive connections, each sending its next create as soon as the
last is answered, for a warm-up and then SECONDS measured. It prints, per target:
creates/s, latency p50/p95/p99, the gunicorn workers' CPU per create (and the emulator's
and PostgreSQL's), errors (any answer but 200, or a dropped connection) and the most
PostgreSQL connections pg_stat_activity showed on the target's database during the run.
A second run with no Stripe latency and one client gives latency and CPU per create alone.
It also prints how busy the machine was with other work, since that skews every figure.
"""

import argparse
import asyncio
import json
import os
import runpy
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # gunicorn.conf.py reads bokacheckout.time_budget
PYTHON = sys.executable
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
EMULATOR_PORT = 12391
TARGET_PORTS = {"floor": 8391, "project": 8392}
CHECKOUT_PATH = "/payment/stripe/v1/checkout"
# How often pg_stat_activity is read for the connection count.
CONNECTION_SAMPLE_SECONDS = 0.02


@dataclass
class Target:
    """A server under test: its name, database and what a create request looks like."""

    name: str
    database_url: str
    wsgi_app: str | None  # None: the project's own (gunicorn.conf.py's wsgi_app)
    settings_module: str
    headers: dict[str, str] = field(default_factory=dict)
    company_id: str = "0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b"

    @property
    def port(self) -> int:
        return TARGET_PORTS[self.name]

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")


@dataclass
class Figures:
    creates: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    worker_cpu_seconds: float
    emulator_cpu_seconds: float
    postgres_cpu_seconds: float
    max_connections: int
    other_load_percent: float

    def per_create_ms(self, cpu_seconds: float) -> float:
        return 1000 * cpu_seconds / self.creates if self.creates else float("nan")

    def percentile(self, share: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[
            round(share * 100) - 1
        ]


# --- databases ----------------------------------------------------------------------------


def throwaway_url(base_url: str, suffix: str) -> str:
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'bokacheckout'}_{suffix}_{os.getpid()}"
    return urlunsplit(parts._replace(path=f"/{name}"))


def maintenance_url(base_url: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path="/postgres"))


def execute_autocommit(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def server_environment(target: Target, emulator_url: str) -> dict[str, str]:
    """What both servers are given: production settings, the emulator, no throttling."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": target.settings_module,
        "DATABASE_URL": target.database_url,
        "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "STRIPE_SECRET_KEY": "sk_test_emulator",
        "STRIPE_API_BASE": emulator_url,
        # The throttle still counts every request, and never says no. Per second, so that a
        # key's history holds about as many requests as the production rate's (120/min).
        "API_THROTTLE_RATE": "1000000/s",
        "GUNICORN_BIND": f"127.0.0.1:{target.port}",
    }


def prepare_project(target: Target, emulator_url: str) -> None:
    """Migrate the project's database and seed the demo company; its API key goes in the
    target's headers."""
    environment = server_environment(target, emulator_url)
    manage = [PYTHON, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        cwd=ROOT,
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seeded = subprocess.run(
        [*manage, "seed_demo", "--json"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    demo = json.loads(seeded.stdout)
    target.headers = {"X-Api-Key": demo["ApiKey"]}
    target.company_id = demo["CompanyId"]


def prepare_floor(target: Target, emulator_url: str) -> None:
    environment = server_environment(target, emulator_url)
    subprocess.run(
        [PYTHON, "-m", "django", "migrate", "--run-syncdb", "--noinput"],
        cwd=ROOT,
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )


# --- processes ----------------------------------------------------------------------------


@contextmanager
def running(argv: list[str], environment: dict[str, str]):
    process = subprocess.Popen(
        argv, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_answering(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own local server
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it serves
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.1)


def emulator_control(emulator_url: str, path: str, payload: dict | None = None) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own local emulator
        f"{emulator_url}/_emulator/{path}",
        data=json.dumps(payload or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()  # noqa: S310


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class ConnectionSampler:
    """Counts a database's connections in pg_stat_activity from a thread, keeping the most
    seen and the backends' process ids (for their CPU time)."""

    def __init__(self, maintenance: str, database: str) -> None:
        self._maintenance = maintenance
        self._database = database
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.most = 0
        self.backend_pids: set[int] = set()
        self.own_backend_pid = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "ConnectionSampler":
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self._maintenance, autocommit=True) as connection:
            self.own_backend_pid = connection.info.backend_pid
            self._ready.set()
            while not self._stop.wait(CONNECTION_SAMPLE_SECONDS):
                pids = [
                    row[0]
                    for row in connection.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self._database]
                    )
                ]
                self.most = max(self.most, len(pids))
                self.backend_pids.update(pids)


# --- load -----------------------------------------------------------------------------------


def request_bytes(target: Target, reference: str) -> bytes:
    body = json.dumps(
        {
            "CompanyId": target.company_id,
            "CountryCode": "SE",
            "Articles": [{"ArticleId": 1, "ArticleTypeId": 1, "Quantity": 1}],
            "InternalReferenceId": reference,
            "UiMode": "hosted",
        }
    ).encode()
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        **target.headers,
    }
    head = f"POST {CHECKOUT_PATH} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode() + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await read_chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() != "close"


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)  # and its CRLF
        if size == 0:
            return body
        body += chunk[:-2]


@dataclass
class Load:
    """What the clients saw in the measured window."""

    window_start: float = float("inf")
    window_end: float = float("inf")
    latencies_ms: list[float] = field(default_factory=list)
    creates: int = 0
    errors: int = 0

    def record(self, started: float, ok: bool) -> None:
        ended = time.perf_counter()
        if self.window_start <= ended <= self.window_end:
            if ok:
                self.creates += 1
                self.latencies_ms.append((ended - started) * 1000)
            else:
                self.errors += 1


async def client(target: Target, number: int, load: Load, stop: asyncio.Event) -> None:
    reader = writer = None
    sent = 0
    while not stop.is_set():
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        started = time.perf_counter()
        try:
            writer.write(request_bytes(target, f"bench-{target.name}-{number}-{sent}-{started}"))
            sent += 1
            status, body, keep_alive = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError):
            load.record(started, ok=False)
            writer.close()
            writer = None
            continue
        load.record(started, ok=status == 200 and b'"SessionId"' in body)
        if not keep_alive:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def drive(
    target: Target, clients: int, warmup: float, seconds: float, on_window_start, on_window_end
) -> Load:
    load = Load()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client(target, n, load, stop)) for n in range(clients)]
    await asyncio.sleep(warmup)
    on_window_start()
    load.window_start = time.perf_counter()
    await asyncio.sleep(seconds)
    load.window_end = time.perf_counter()
    on_window_end()
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return load


def measure(
    target: Target,
    emulator: subprocess.Popen,
    emulator_url: str,
    maintenance: str,
    *,
    clients: int,
    latency: float,
    warmup: float,
    seconds: float,
) -> Figures:
    """Start the target's gunicorn, load it, stop it; its figures."""
    emulator_control(emulator_url, "reset")  # the emulator's work grows with its sessions
    emulator_control(emulator_url, "latency", {"seconds": latency})
    argv = [PYTHON, "-m", "gunicorn", "-c", str(GUNICORN_CONF)]
    if target.wsgi_app:
        argv.append(target.wsgi_app)
    with (
        running(argv, server_environment(target, emulator_url)) as server,
        ConnectionSampler(maintenance, target.database_name) as sampler,
    ):
        wait_until_answering(f"http://127.0.0.1:{target.port}/", server)
        master = psutil.Process(server.pid)
        gunicorn = [master, *master.children(recursive=True)]
        tools = [psutil.Process(), psutil.Process(sampler.own_backend_pid)]
        start: dict[str, float] = {}
        end: dict[str, float] = {}

        def snapshot(into: dict[str, float]) -> None:
            into.update(
                gunicorn=cpu_seconds(gunicorn),
                emulator=cpu_seconds([psutil.Process(emulator.pid)]),
                tools=cpu_seconds(tools),
                machine=busy_seconds(),
            )
            for pid in sampler.backend_pids:
                with suppress(psutil.NoSuchProcess):
                    into[f"backend {pid}"] = cpu_seconds([psutil.Process(pid)])

        load = asyncio.run(
            drive(target, clients, warmup, seconds, lambda: snapshot(start), lambda: snapshot(end))
        )
    # A backend that started during the window is new: all its time is the window's.
    postgres = sum(end[key] - start.get(key, 0.0) for key in end if key.startswith("backend "))
    spent = {name: end[name] - start[name] for name in ("gunicorn", "emulator", "tools")}
    elapsed = load.window_end - load.window_start
    others = max(0.0, end["machine"] - start["machine"] - sum(spent.values()) - postgres)
    return Figures(
        creates=load.creates,
        errors=load.errors,
        seconds=elapsed,
        latencies_ms=load.latencies_ms,
        worker_cpu_seconds=spent["gunicorn"],
        emulator_cpu_seconds=spent["emulator"],
        postgres_cpu_seconds=postgres,
        max_connections=sampler.most,
        other_load_percent=100 * others / elapsed / psutil.cpu_count(),
    )


# --- report ---------------------------------------------------------------------------------


HEADER = (
    f"{'target':<8} {'creates/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
    f"{'CPU ms/create':>13} {'emulator':>8} {'postgres':>8} {'errors':>6} {'max PG conns':>12} "
    f"{'other load':>10}"
)


def row(name: str, figures: Figures) -> str:
    return (
        f"{name:<8} {figures.creates / figures.seconds:9.1f} {figures.percentile(0.5):7.1f} "
        f"{figures.percentile(0.95):7.1f} {figures.percentile(0.99):7.1f} "
        f"{figures.per_create_ms(figures.worker_cpu_seconds):13.2f} "
        f"{figures.per_create_ms(figures.emulator_cpu_seconds):8.2f} "
        f"{figures.per_create_ms(figures.postgres_cpu_seconds):8.2f} "
        f"{figures.errors:6d} {figures.max_connections:12d} {figures.other_load_percent:9.0f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.3, help="Stripe's, in seconds.")
    parser.add_argument(
        "--seconds", type=float, default=15, help="Measured, per target, with CLIENTS."
    )
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="Floor then project, N times.")
    parser.add_argument(
        "--targets", nargs="+", default=["floor", "project"], choices=["floor", "project"]
    )
    parser.add_argument(
        "--solo-seconds",
        type=float,
        default=10,
        help="Measured, per target, with one client and no latency (0: skip that run).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the databases afterwards.")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database (its server gets throwaway ones)")
    maintenance = maintenance_url(base_url)
    targets = {
        "floor": Target(
            "floor",
            throwaway_url(base_url, "creates_floor"),
            "benchmarks.floor.wsgi:application",
            "benchmarks.floor.settings",
        ),
        "project": Target(
            "project", throwaway_url(base_url, "creates_project"), None, "bokacheckout.settings"
        ),
    }
    targets = {name: targets[name] for name in args.targets}
    emulator_url = f"http://127.0.0.1:{EMULATOR_PORT}"
    for target in targets.values():
        execute_autocommit(maintenance, f'CREATE DATABASE "{target.database_name}"')
    try:
        with running(
            [PYTHON, "-m", "stripe_emulator", "--port", str(EMULATOR_PORT)], dict(os.environ)
        ) as emulator:
            wait_until_answering(f"{emulator_url}/_emulator/faults", emulator)
            for target in targets.values():
                prepare = prepare_project if target.name == "project" else prepare_floor
                prepare(target, emulator_url)
            report(args, targets, emulator, emulator_url, maintenance)
    finally:
        if not args.keep:
            for target in targets.values():
                execute_autocommit(
                    maintenance, f'DROP DATABASE IF EXISTS "{target.database_name}" WITH (FORCE)'
                )


def report(args, targets: dict[str, Target], emulator, emulator_url: str, maintenance: str) -> None:
    server = runpy.run_path(str(GUNICORN_CONF))
    pool = os.environ.get("DATABASE_POOL_MAX_SIZE", "3")
    print(
        f"{psutil.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; gunicorn.conf.py: "
        f"{server['workers']} workers x {server['threads']} threads ({server['worker_class']}), "
        f"a pool of {pool} PostgreSQL connections per worker"
    )
    runs = [(args.clients, args.latency)]
    if args.solo_seconds:
        runs.append((1, 0.0))
    for clients, latency in runs:
        seconds = args.seconds if clients == args.clients else args.solo_seconds
        print(
            f"\n{clients} client(s), Stripe latency {latency * 1000:.0f} ms, {seconds:.0f} s "
            f"measured after {args.warmup:.0f} s warm-up, {args.rounds} round(s). CPU ms per "
            "create: gunicorn (master and workers), the emulator, PostgreSQL's backends. Other "
            "load: the machine's busy time besides these and the benchmark itself."
        )
        print(HEADER)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for target in targets.values():
                figures = measure(
                    target,
                    emulator,
                    emulator_url,
                    maintenance,
                    clients=clients,
                    latency=latency,
                    warmup=args.warmup,
                    seconds=seconds,
                )
                print(row(target.name, figures), flush=True)
                rates[target.name].append(figures.creates / figures.seconds)
        if len(targets) == 2:
            floor, project = (statistics.median(rates[name]) for name in ("floor", "project"))
            print(
                f"median creates/s: floor {floor:.1f}, project {project:.1f}; "
                f"project / floor = {project / floor:.2f}"
            )


if __name__ == "__main__":
    main()
