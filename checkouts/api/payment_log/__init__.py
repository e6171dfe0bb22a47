"""``GET /payment/stripe/v1/payments``: a company's checkouts, a page at a time, in the shape
of ServiceStack's ``QueryResponse`` (``Offset``, ``Total``, ``Results``).

``serializers`` holds its DTOs, ``renderers`` the CSV and XML a ``QueryResponse`` needs,
``views`` its view; ``checkouts.selectors.payment_log`` reads the page.
"""
