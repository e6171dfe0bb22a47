"""The production server, ``gunicorn -c gunicorn.conf.py``, in a child process on a free port.

For tests of the server's settings and for benchmarks, which both need it as deployed.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
STARTUP_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn_server(environment: dict[str, str]) -> Iterator[str]:
    """gunicorn with gunicorn.conf.py, given ``environment`` (all of it), on a free port of
    127.0.0.1; yields its URL once it answers, and stops it afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
        cwd=ROOT,
        env={**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                requests.get(url, timeout=1)
                break
            # The socket listens before a worker has booted: a request waits in the backlog.
            except (requests.ConnectionError, requests.Timeout):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
