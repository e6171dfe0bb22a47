"""The first check every request passes, before anything reads it."""

import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation

from checkouts.api.errors import error_answer

security_logger = logging.getLogger("django.security.DisallowedHost")


class RequestGuardMiddleware:
    """Refuses what no view should see, in ServiceStack's shape and the format the request
    asks for, in DEBUG and production alike (Django's own refusals are HTML pages):

    - a ``Host`` that ``ALLOWED_HOSTS`` does not list: 400 ``DisallowedHost``;
    - a ``Content-Length`` that is not a number of bytes: 400;
    - a body longer than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413, before a byte of it is read.

    It comes first in ``MIDDLEWARE`` (after CORS, so that a browser can read the refusal):
    every later middleware and view may then call ``request.get_host()`` safely.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            self.check(request)
        except DisallowedHost as error:
            security_logger.warning("%s", error)
            return error_answer(
                request, DisallowedHost("This service does not serve the host in Host.")
            )
        except SuspiciousOperation as error:
            return error_answer(request, error)
        return self.get_response(request)

    def check(self, request) -> None:
        request.get_host()
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not (declared.isascii() and declared.isdigit()):
            raise SuspiciousOperation(f"Content-Length {declared!r} is not a number of bytes.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and int(declared) > limit:
            raise RequestDataTooBig(f"The request body is over the limit of {limit} bytes.")
