"""Every error has ServiceStack's shape, in the format the client asked for (in any of the
three ways), with DEBUG on and off: 404, 405, 400 for a foreign Host, 413, 415, 429, 500."""

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.support.api import CHECKOUT_URL, CREATE_SESSION, checkout_body

pytestmark = pytest.mark.django_db(transaction=True)

NS = "{http://schemas.servicestack.net/types}"
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "xml": "application/xml"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict | None = None


def checkout_call(world) -> Call:
    return Call("POST", CHECKOUT_URL, json.dumps(checkout_body(world.company)).encode())


def too_large(world) -> Call:
    return Call("POST", CHECKOUT_URL, b'{"Extra": "' + b"x" * (1024 * 1024) + b'"}')


def unsupported_type(world) -> Call:
    return Call("POST", CHECKOUT_URL, b"CompanyId;SE", content_type="text/plain")


def foreign_host(world) -> Call:
    return Call("POST", CHECKOUT_URL, headers={"HTTP_HOST": "evil.example"})


def throttled(world) -> Call:
    world.settings.REST_FRAMEWORK = {
        **world.settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/hour"},
    }
    world.send(checkout_call(world), "accept", "json")
    return checkout_call(world)


def stripe_refuses_our_key(world) -> Call:
    world.emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=401)
    return checkout_call(world)


# Each error, the call that gets it, and what it is answered with.
ERRORS: dict[str, tuple[Callable, int, str]] = {
    "unknown-path": (lambda world: Call("POST", "/payment/stripe/v1/nothing"), 404, "NotFound"),
    "unknown-path-in-other-case": (lambda world: Call("GET", "/NO/Such/Path"), 404, "NotFound"),
    "wrong-method": (lambda world: Call("GET", CHECKOUT_URL), 405, "MethodNotAllowed"),
    "foreign-host": (foreign_host, 400, "DisallowedHost"),
    "body-too-large": (too_large, 413, "RequestEntityTooLarge"),
    "unsupported-media-type": (unsupported_type, 415, "UnsupportedMediaType"),
    "throttled": (throttled, 429, "TooManyRequests"),
    "server-error": (stripe_refuses_our_key, 500, "PaymentServiceMisconfigured"),
}


def ask(path: str, way: str, fmt: str) -> tuple[str, dict]:
    """``path`` and headers that ask for ``fmt`` in one of the seed's three ways."""
    if way == "accept":
        return path, {"HTTP_ACCEPT": MEDIA_TYPES[fmt]}
    if way == "suffix":
        return f"{path}.{fmt}", {}
    return f"{path}?format={fmt}", {}


@dataclass
class World:
    company: object
    key: str
    emulator: object
    settings: object

    def send(self, call: Call, way: str, fmt: str):
        path, headers = ask(call.path, way, fmt)
        return APIClient().generic(
            call.method,
            path,
            call.body,
            content_type=call.content_type,
            HTTP_X_API_KEY=self.key,
            **headers,
            **(call.headers or {}),
        )


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def world(request, company, api_key, stripe_emulator, settings) -> World:
    settings.DEBUG = request.param
    cache.clear()
    yield World(company, api_key, stripe_emulator, settings)
    cache.clear()


def error_code_in(response, fmt: str) -> str:
    """The ``ResponseStatus.ErrorCode`` of an error answer in ``fmt``."""
    assert response["Content-Type"].split(";")[0] == MEDIA_TYPES[fmt]
    if fmt == "json":
        return response.json()["ResponseStatus"]["ErrorCode"]
    if fmt == "csv":
        header, row = csv.reader(io.StringIO(response.content.decode()))
        return dict(zip(header, row, strict=True))["ResponseStatus.ErrorCode"]
    root = parse_xml(response.content)
    assert root.tag == f"{NS}ErrorResponse"
    return root.find(f"{NS}ResponseStatus/{NS}ErrorCode").text


@pytest.mark.parametrize("fmt", list(MEDIA_TYPES))
@pytest.mark.parametrize("way", ["accept", "suffix", "query"])
@pytest.mark.parametrize("error", list(ERRORS))
def test_every_error_is_in_the_servicestack_shape_and_the_format_asked_for(world, error, way, fmt):
    make_call, status, error_code = ERRORS[error]

    response = world.send(make_call(world), way, fmt)

    assert response.status_code == status, response.content[:300]
    assert error_code_in(response, fmt) == error_code


@pytest.mark.parametrize("fmt", list(MEDIA_TYPES))
def test_an_unknown_dto_on_a_predefined_route_is_a_404_in_the_routes_format(world, fmt):
    response = APIClient().post(f"/{fmt}/reply/NoSuchRequest")

    assert response.status_code == 404
    assert error_code_in(response, fmt) == "NotFound"


def test_text_xml_asks_for_xml(world):
    response = APIClient().post("/payment/stripe/v1/nothing", HTTP_ACCEPT="text/xml")

    assert response.status_code == 404
    assert error_code_in(response, "xml") == "NotFound"


def test_an_unknown_path_with_an_unknown_format_is_a_404_in_json(world):
    response = APIClient().post("/payment/stripe/v1/nothing?format=yaml")

    assert response.status_code == 404
    assert error_code_in(response, "json") == "NotFound"


@pytest.mark.parametrize("path", ["/admin", "/demo"])
def test_the_browser_sections_still_get_their_trailing_slash(world, path):
    response = APIClient().get(path)

    assert response.status_code == 301
    assert response["Location"] == f"{path}/"
