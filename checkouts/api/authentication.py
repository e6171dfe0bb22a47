"""``X-Api-Key`` authentication, BokaMera's header, against hashed per-company keys."""

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission

from checkouts.models import CompanyApiKey

API_KEY_HEADER = "X-Api-Key"


class CompanyApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by its ``X-Api-Key``; ``request.auth`` becomes the ``CompanyApiKey``.

    No header: not authenticated (401 through ``HasCompanyApiKey``). A key
    that is unknown, revoked or expired, or that is not printable ASCII (as every
    key is), without a database lookup: 401. Keys are only ever compared by hash
    (djangorestframework-api-key).
    """

    def authenticate(self, request):
        key = request.META.get(settings.API_KEY_CUSTOM_HEADER)
        if not key:
            return None
        if not (key.isascii() and key.isprintable()):
            raise AuthenticationFailed("The X-Api-Key is not valid.")
        try:
            api_key = CompanyApiKey.objects.get_from_key(key)
        except CompanyApiKey.DoesNotExist:
            raise AuthenticationFailed("The X-Api-Key is not valid.") from None
        if api_key.has_expired:
            raise AuthenticationFailed("The X-Api-Key has expired.")
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return API_KEY_HEADER


class HasCompanyApiKey(BasePermission):
    """Allows requests that authenticated with a company API key; others get a 401."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, CompanyApiKey):
            raise NotAuthenticated(f"An {API_KEY_HEADER} header is required.")
        return True
