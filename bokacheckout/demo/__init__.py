"""Demo pages (``/demo/``): a booking widget that pays through the real API.

Served only when ``DEMO_PAGES_ENABLED`` is on (``dev.py run`` turns it on).
"""
