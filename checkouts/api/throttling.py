from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from checkouts.models import CompanyApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Limits each API key to the ``api_key`` rate of ``DEFAULT_THROTTLE_RATES`` (env
    ``API_THROTTLE_RATE``). Requests without a valid key are refused before throttling."""

    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read per request rather than at import, so a settings change takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, CompanyApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
