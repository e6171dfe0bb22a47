"""The floor for ``benchmarks/creates.py``: the least a create can do over HTTP.

A bare DRF view that parses the same JSON body, makes the same one Stripe Checkout
Session create with the official SDK, and inserts one row. No middleware, no API key, no
throttle, no catalogue: what is left is the cost of Django, DRF, the SDK and one INSERT,
which the project is measured against. Served by gunicorn with the project's
gunicorn.conf.py (``gunicorn -c gunicorn.conf.py benchmarks.floor.wsgi``).
"""
