"""``POST /payment/stripe/v1/checkout/refund``: refund a paid checkout, in part or in full.

Same API key rules, formats, errors and ``Idempotency-Key`` as creating a checkout.
``serializers`` holds its DTOs, ``views`` its view; ``checkouts.refunds`` does the work.
"""
