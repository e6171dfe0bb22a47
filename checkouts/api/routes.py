"""Routes as ServiceStack matches them: a path in any letter case, with or without a trailing
slash, a format suffix (``.csv``, ``.XML``), and the predefined routes
``/{json|xml|csv}/reply/{RequestDto}``.

Django matches paths case-sensitively, so these routes compile their regular expressions
with ``re.IGNORECASE``; the expressions themselves stay plain, so that ``reverse()`` and
the schema generator read them as any other.
"""

import re
from functools import cached_property

from django.urls import URLPattern
from django.urls.resolvers import RegexPattern

FORMATS = ("json", "csv", "xml")
FORMAT_GROUP = f"(?P<format>{'|'.join(FORMATS)})"
OPTIONAL_SLASH = "(?:/)?"


class CaseInsensitivePattern(RegexPattern):
    """A ``RegexPattern`` that matches a path in any letter case."""

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self._regex, re.IGNORECASE)


def case_insensitive_route(regex: str, view, name: str | None = None) -> URLPattern:
    return URLPattern(CaseInsensitivePattern(regex, name=name, is_endpoint=True), view, name=name)


def servicestack_routes(route: str, view, name: str) -> list[URLPattern]:
    """``route`` (``payment/stripe/v1/checkout``) and its ``.json``/``.csv``/``.xml`` twin."""
    path = re.escape(route)
    return [
        case_insensitive_route(f"^{path}{OPTIONAL_SLASH}$", view, name=name),
        case_insensitive_route(f"^{path}\\.{FORMAT_GROUP}{OPTIONAL_SLASH}$", view),
    ]


def reply_route(request_name: str, view) -> URLPattern:
    """ServiceStack's predefined route of a request DTO: ``/json/reply/StripeV1CreateCheckout``
    answers in the format its path names."""
    return case_insensitive_route(
        f"^{FORMAT_GROUP}/reply/{re.escape(request_name)}{OPTIONAL_SLASH}$", view
    )


def unknown_path_routes(view, *, browser_sections: tuple[str, ...]) -> list[URLPattern]:
    """The last routes: every other path goes to ``view`` (a 404 in the API's shape), in the
    format that a ``/csv/reply/...`` path or a ``.csv`` suffix names. The sections that
    browsers use (``admin/``...) are left to Django, which redirects ``/admin`` to
    ``/admin/`` (APPEND_SLASH)."""
    outside = "".join(f"(?!{re.escape(section)}(?:/|$))" for section in browser_sections)
    return [
        case_insensitive_route(f"^{outside}{FORMAT_GROUP}/reply/", view),
        case_insensitive_route(f"^{outside}.*?\\.{FORMAT_GROUP}{OPTIONAL_SLASH}$", view),
        case_insensitive_route(f"^{outside}", view),
    ]
