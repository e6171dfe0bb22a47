"""``X-Api-Key`` authentication, BokaMera's header, against hashed per-company keys."""

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission

from checkouts import selectors
from checkouts.api.throttling import refusal_of_failed_key
from checkouts.models import CompanyApiKey

API_KEY_HEADER = "X-Api-Key"


class CompanyApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by its ``X-Api-Key``; ``request.auth`` becomes the ``CompanyApiKey``.

    No header: not authenticated (401 through ``HasCompanyApiKey``). A key
    that is unknown, revoked or expired, or that is not printable ASCII (as every
    key is), without a database lookup: 401. Keys are only ever compared by hash
    (djangorestframework-api-key). Each of these counts as a failed attempt of the
    client's address, which gets 429 instead once it has had too many.
    """

    def authenticate(self, request):
        key = request.META.get(settings.API_KEY_CUSTOM_HEADER)
        if not key:
            return None
        if not (key.isascii() and key.isprintable()):
            raise self.failed(request, "The X-Api-Key is not valid.")
        try:
            api_key = selectors.usable_api_key(key)
        except CompanyApiKey.DoesNotExist:
            raise self.failed(request, "The X-Api-Key is not valid.") from None
        if api_key.has_expired:
            raise self.failed(request, "The X-Api-Key has expired.")
        return (None, api_key)

    @staticmethod
    def failed(request, message: str) -> APIException:
        return refusal_of_failed_key(request, AuthenticationFailed(message))

    def authenticate_header(self, request) -> str:
        return API_KEY_HEADER


class HasCompanyApiKey(BasePermission):
    """Allows requests that authenticated with a company API key; others get a 401, or a
    429 once their address has had too many failed attempts."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, CompanyApiKey):
            raise refusal_of_failed_key(
                request, NotAuthenticated(f"An {API_KEY_HEADER} header is required.")
            )
        return True
