"""The production server's settings: ``gunicorn -c gunicorn.conf.py``.

Threaded workers, so that a worker waiting on Stripe (about 300 ms a create) still
serves other requests; sized by environment variables, with defaults for 2 cores.

The time budgets fit together: one Stripe call, every SDK try timing out, takes at
most ``stripe_call_budget`` seconds (16.5 with the defaults: 8 s a try, one retry),
well inside the worker ``timeout`` (30 s). So a hanging Stripe ends in the
service's own 503, never in a killed worker. The server refuses to start when the
Stripe settings would not fit.
"""

import os

from bokacheckout.time_budget import (
    DEFAULT_STRIPE_MAX_NETWORK_RETRIES,
    DEFAULT_STRIPE_TIMEOUT_SECONDS,
    stripe_call_budget,
)

wsgi_app = "bokacheckout.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# One process per core, each with enough threads to wait on Stripe for many clients, and
# a few more, since clients rarely spread evenly over the processes.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "48"))
# Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads new
# connections over them. On one shared socket, the first worker awake accepted a whole
# burst of keep-alive clients and served them with its threads alone, while the others
# idled. (A worker that exits resets the connections still queued on its socket, unless
# the host sets net.ipv4.tcp_migrate_req.)
reuse_port = True
# Nothing here uses gunicornc; every server on a host would share its socket's path.
control_socket_disable = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = timeout
keepalive = 5
accesslog = "-"

# A create must end well before its worker would be killed: at most this share of it.
STRIPE_SHARE_OF_WORKER_TIMEOUT = 0.6
stripe_budget = stripe_call_budget(
    float(os.environ.get("STRIPE_TIMEOUT_SECONDS", DEFAULT_STRIPE_TIMEOUT_SECONDS)),
    int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", DEFAULT_STRIPE_MAX_NETWORK_RETRIES)),
)
if stripe_budget > STRIPE_SHARE_OF_WORKER_TIMEOUT * timeout:
    raise RuntimeError(
        f"A Stripe call may take {stripe_budget:.1f} s (STRIPE_TIMEOUT_SECONDS x tries, plus "
        f"the SDK's backoff), more than {STRIPE_SHARE_OF_WORKER_TIMEOUT:.0%} of the worker "
        f"timeout ({timeout} s, GUNICORN_TIMEOUT). Lower the Stripe settings or raise it."
    )
