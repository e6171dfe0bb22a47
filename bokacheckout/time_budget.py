"""How long one Stripe call may take, all tries included, for the server's settings to fit.

Read by ``settings.py`` and by ``gunicorn.conf.py`` (which must not import Django's
settings), so the two can't disagree on the defaults.
"""

DEFAULT_STRIPE_TIMEOUT_SECONDS = 8.0
DEFAULT_STRIPE_MAX_NETWORK_RETRIES = 1
# The SDK waits 0.5 s before its first retry, doubling up to 5 s (stripe._http_client).
SDK_FIRST_RETRY_DELAY_SECONDS = 0.5
SDK_MAX_RETRY_DELAY_SECONDS = 5.0


def stripe_call_budget(timeout_seconds: float, max_network_retries: int) -> float:
    """The longest one SDK call can take: every try timing out, with the SDK's backoff between."""
    backoff = sum(
        min(SDK_FIRST_RETRY_DELAY_SECONDS * 2**attempt, SDK_MAX_RETRY_DELAY_SECONDS)
        for attempt in range(max_network_retries)
    )
    return timeout_seconds * (max_network_retries + 1) + backoff
