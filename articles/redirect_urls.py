"""Redirect URLs (where Stripe sends a customer back) read as browsers read them.

A URL is parsed by the WHATWG URL standard, which browsers follow, with ada-url, so the
host checked here is the host a browser goes to. What a browser would repair or read
differently from a server's parser is refused rather than repaired: backslashes (a browser
reads ``https://evil.example\\@127.0.0.1/`` as host ``evil.example``), whitespace and
control characters (a browser drops some of them), a user name or password, and a
percent-encoded host.
"""

import re
import unicodedata

from ada_url import URL

REDIRECT_SCHEMES = ("http", "https")
# The scheme, then "//": what follows it, up to the path, is the authority.
ABSOLUTE_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")
# Unicode categories of control, format and unassigned characters, and of separators.
INVISIBLE_CATEGORIES = ("C", "Z")


class UnsafeRedirectUrl(ValueError):
    """Not an absolute http(s) URL that every reader would send to the same host."""


def redirect_host(url: str) -> str:
    """The host that a browser sent to ``url`` goes to: lower case, an international name
    in its ASCII (IDNA) form, an IPv4 address in dotted decimal.

    Raises ``UnsafeRedirectUrl``, whose message says what is wrong, unless ``url`` is a
    plain absolute http(s) URL.
    """
    if "\\" in url:
        raise UnsafeRedirectUrl("Must not contain a backslash.")
    if any(unicodedata.category(char).startswith(INVISIBLE_CATEGORIES) for char in url):
        raise UnsafeRedirectUrl("Must not contain whitespace or control characters.")
    match = ABSOLUTE_URL.match(url)
    if match is None or match["scheme"].lower() not in REDIRECT_SCHEMES:
        raise UnsafeRedirectUrl("Must be an absolute http or https URL.")
    if not match["authority"]:
        # https:///x: a browser skips the slashes and goes to host x.
        raise UnsafeRedirectUrl("Must name a host after the two slashes.")
    if "@" in match["authority"]:
        raise UnsafeRedirectUrl("Must not contain a user name or password (user@host).")
    if "%" in match["authority"]:
        raise UnsafeRedirectUrl("Must not percent-encode its host.")
    try:
        host = URL(url).hostname
    except ValueError:
        raise UnsafeRedirectUrl("Is not a valid URL.") from None
    if not host:
        raise UnsafeRedirectUrl("Must name a host.")
    return host


def host_name(name: str) -> str | None:
    """A host name as ``redirect_host`` writes it (``Bokning.Example.SE`` is
    ``bokning.example.se``), or ``None`` if it is not one."""
    try:
        return redirect_host(f"https://{name}/")
    except UnsafeRedirectUrl:
        return None
