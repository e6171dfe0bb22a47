"""The OpenAPI schema: valid, served in public, complete, and true to what the endpoints answer.

Real requests go through the test client to the service, which calls the Stripe
emulator; each answer is then checked by openapi-core against the response the
schema documents for its status, headers included.
"""

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.cache import cache
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from articles.demo import seed_demo_company
from articles.models import Company, StripeCheckoutSettings
from checkouts.api.errors import ERROR_ANSWERS, answer_to
from checkouts.api.schema import examples
from checkouts.api.schema.operations import (
    CHECKOUT_STATUS_ERRORS,
    CREATE_CHECKOUT_ERRORS,
    RECEIVE_WEBHOOK_ERRORS,
)
from checkouts.api.schema.payment_log_operations import PAYMENT_LOG_ERRORS
from checkouts.api.schema.refund_operations import REFUND_CHECKOUT_ERRORS
from checkouts.models import ClientIdempotencyKey
from stripe_emulator import StripeEmulator
from stripe_emulator.webhooks import encode_event, sign_payload
from tests.support.api import (
    CHECKOUT_URL,
    CREATE_REFUND,
    CREATE_SESSION,
    IPN_CALLBACK_URL,
    PAYMENTS_URL,
    REFUND_URL,
    RETRIEVE_SESSION,
    SEED_RESPONSE_FIELDS,
    STATUS_URL,
    WEBHOOK_URL,
    checkout_body,
)
from tests.support.factories import make_api_key, make_company

WEBHOOK_SECRET = "whsec_test_emulator"
HOST = "http://testserver"
JSON, CSV, XML, FORM = (
    "application/json",
    "text/csv",
    "application/xml",
    "application/x-www-form-urlencoded",
)
OPERATIONS = {
    CHECKOUT_URL: "createStripeCheckout",
    STATUS_URL: "getStripeCheckoutStatus",
    REFUND_URL: "refundStripeCheckout",
    PAYMENTS_URL: "getStripeCheckoutPayments",
    WEBHOOK_URL: "receiveStripeWebhook",
    IPN_CALLBACK_URL: "receiveStripeIpnCallback",
}
# The method of each operation that is not a POST.
METHODS = {PAYMENTS_URL: "get"}
# The errors each operation declares it can raise.
OPERATION_ERRORS = {
    CHECKOUT_URL: CREATE_CHECKOUT_ERRORS,
    STATUS_URL: CHECKOUT_STATUS_ERRORS,
    REFUND_URL: REFUND_CHECKOUT_ERRORS,
    PAYMENTS_URL: PAYMENT_LOG_ERRORS,
    WEBHOOK_URL: RECEIVE_WEBHOOK_ERRORS,
    IPN_CALLBACK_URL: RECEIVE_WEBHOOK_ERRORS,
}
# BokaMera's documented sample request, verbatim, and its sample response.
SEED_REQUEST = json.loads(
    '{"CompanyId":"00000000-0000-0000-0000-000000000000","CountryCode":"String",'
    '"Articles":[{"ArticleId":0,"ArticleTypeId":0,"Quantity":0}],"InternalReferenceId":"String",'
    '"ConfirmationUrl":"String","CancelUrl":"String","UiMode":"String"}'
)
SEED_RESPONSE = dict.fromkeys(SEED_RESPONSE_FIELDS, "String")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The schema as /openapi.json serves it to anyone."""
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def openapi(schema) -> OpenAPI:
    return OpenAPI.from_dict(schema)


def component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return schema["components"]["schemas"][name]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with a ``$ref`` (alone or as the one ``allOf``) replaced by its target."""
    if "allOf" in node and len(node["allOf"]) == 1:
        node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
    if "$ref" in node:
        target = node["$ref"].removeprefix("#/components/schemas/")
        node = {**component(schema, target), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def operation(schema: dict[str, Any], path: str) -> dict[str, Any]:
    return schema["paths"][path][METHODS.get(path, "post")]


def validator(schema: dict[str, Any], node: dict[str, Any]) -> OAS30Validator:
    """A JSON Schema validator (OpenAPI 3.0 dialect: ``nullable``) for ``node``."""
    return OAS30Validator(
        {**node, "components": schema["components"]}, format_checker=oas30_format_checker
    )


# --- The schema is valid -----------------------------------------------------


def test_the_schema_validates_and_generates_without_warnings_or_errors(tmp_path):
    GENERATOR_STATS.reset()
    target = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert not GENERATOR_STATS
    document = yaml.safe_load(target.read_text())
    assert document["openapi"].startswith("3.0")
    assert set(document["paths"]) == set(OPERATIONS)


def test_serving_the_schema_emits_no_warning_either():
    GENERATOR_STATS.reset()

    response = Client().get("/openapi.json")

    assert response.status_code == 200
    assert not GENERATOR_STATS


def test_every_example_but_the_placeholder_sample_conforms_to_its_schema(schema):
    checked = 0
    for path in OPERATIONS:
        op = operation(schema, path)
        bodies = [op.get("requestBody", {}), *op["responses"].values()]
        for body in bodies:
            media = body.get("content", {}).get(JSON)
            if not media:
                continue
            for name, example in media.get("examples", {}).items():
                if name == "BokaMeraSample":
                    continue
                errors = list(validator(schema, media["schema"]).iter_errors(example["value"]))
                assert errors == [], f"{path} example {name}: {errors}"
                checked += 1
    assert checked >= 30


# --- It is served ------------------------------------------------------------


def test_openapi_json_and_yaml_serve_the_same_schema_without_an_api_key(schema):
    client = Client()

    as_json = client.get("/openapi.json")
    as_yaml = client.get("/openapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert json.loads(as_json.content) == yaml.safe_load(as_yaml.content) == schema


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/openapi.json", {"Accept": "text/csv"}),
        ("/openapi.json?format=xml", {}),
        ("/openapi.yaml", {"Accept": "application/json"}),
    ],
)
def test_the_suffix_of_the_schema_path_decides_its_format(path, headers):
    response = Client().get(path, headers=headers)

    assert response.status_code == 200
    suffix = path.split("?")[0].rsplit(".", 1)[1]
    assert response["Content-Disposition"].endswith(f'.{suffix}"')


def test_the_schema_paths_do_not_take_the_apis_suffixes():
    client = Client()

    assert client.get("/openapi.csv").status_code == 404
    assert client.get("/openapi.json.yaml").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_docs_need_no_key_and_do_not_use_up_a_keys_requests(
    company, api_key, stripe_emulator, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/hour"},
    }
    cache.clear()
    with_key = Client(headers={"X-Api-Key": api_key})
    with_bad_key = Client(headers={"X-Api-Key": "not-a-key"})

    for _ in range(3):
        for path in ("/openapi.json", "/openapi.yaml", "/docs/"):
            assert with_key.get(path).status_code == 200
            assert with_bad_key.get(path).status_code == 200
            assert Client().get(path).status_code == 200

    first = with_key.post(CHECKOUT_URL, checkout_body(company), content_type=JSON)
    second = with_key.post(CHECKOUT_URL, checkout_body(company), content_type=JSON)
    assert (first.status_code, second.status_code) == (200, 429)
    cache.clear()


def test_the_docs_render_with_debug_off_from_local_assets_only(settings):
    assert settings.DEBUG is False
    client = Client()

    response = client.get("/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert '"/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert all(asset.startswith("/static/drf_spectacular_sidecar/") for asset in assets), assets
    assert not re.search(r"https?://", html)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content)
        served.close()


def test_the_docs_bundle_is_served_as_javascript():
    response = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert b"SwaggerUIBundle" in b"".join(response.streaming_content)
    response.close()


# --- It documents the API ----------------------------------------------------


def test_each_endpoint_is_documented_once_with_its_method(schema):
    assert set(schema["paths"]) == set(OPERATIONS)
    for path, operation_id in OPERATIONS.items():
        assert set(schema["paths"][path]) == {METHODS.get(path, "post")}
        op = operation(schema, path)
        assert op["operationId"] == operation_id
        assert op["summary"]
        assert op["description"]
        assert op["tags"]


def test_create_has_the_seed_summary_and_description(schema):
    op = operation(schema, CHECKOUT_URL)

    assert op["summary"] == "Create Stripe checkout (requires settings for Stripe Checkout 1.0)"
    assert op["description"].startswith(
        "Create a checkout for a payable entity. Note: if checkouts of it already exist, "
        "they are\ninvalidated"
    )


def test_create_request_fields_have_the_seed_required_flags_and_descriptions(schema):
    body = operation(schema, CHECKOUT_URL)["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {JSON, FORM, CSV, XML}
    request = resolve(schema, body["content"][JSON]["schema"])
    fields = request["properties"]

    assert sorted(request["required"]) == [
        "Articles",
        "CompanyId",
        "CountryCode",
        "InternalReferenceId",
    ]
    assert list(fields) == [
        "CompanyId",
        "CountryCode",
        "Articles",
        "InternalReferenceId",
        "ConfirmationUrl",
        "CancelUrl",
        "UiMode",
    ]
    assert fields["CompanyId"]["format"] == "uuid"
    assert fields["CompanyId"]["description"].startswith("The company id.")
    assert fields["CountryCode"]["description"].startswith("Country code for the checkout")
    assert fields["Articles"]["description"].startswith("Articles (could be services")
    assert (fields["Articles"]["minItems"], fields["Articles"]["maxItems"]) == (1, 100)
    assert fields["InternalReferenceId"]["description"].startswith("An internal reference id")
    assert fields["InternalReferenceId"]["maxLength"] == 200
    assert fields["ConfirmationUrl"]["description"].startswith(
        "Optional, to set your own confirmation URL after payment is completed"
    )
    assert "not allowed if UiMode is embedded" in fields["CancelUrl"]["description"]

    ui_mode = resolve(schema, fields["UiMode"])
    assert set(ui_mode["enum"]) == {"hosted", "embedded", "hosted_page", "embedded_page"}
    assert ui_mode["default"] == "hosted"
    assert ui_mode["description"].startswith("The UI mode of the Session. Defaults to hosted.")
    assert "case-insensitively" in ui_mode["description"]


def test_an_articles_quantity_is_optional_and_defaults_to_one(schema):
    article = component(schema, "ArticleToCreate")

    assert sorted(article["required"]) == ["ArticleId", "ArticleTypeId"]
    assert article["properties"]["Quantity"]["default"] == 1
    assert article["properties"]["Quantity"]["minimum"] == 1


def test_the_response_fields_carry_the_seed_descriptions_and_say_what_may_be_null(schema):
    response = component(schema, "StripeCheckoutQueryResponse")
    fields = response["properties"]

    assert sorted(response["required"]) == sorted(SEED_RESPONSE)
    assert fields["SessionId"]["description"].startswith("The checkout session id")
    assert fields["ClientSecret"]["description"].startswith(
        "Client secret to be used when initializing Stripe.js embedded checkout"
    )
    assert fields["CustomerId"]["description"].startswith("(ID of the Customer)")
    nullable = {name for name, field in fields.items() if field.get("nullable")}
    assert nullable == {
        "Url",
        "ClientSecret",
        "CustomerId",
        "PaymentIntentClientSecret",
        "PaymentIntentId",
    }


def test_the_status_request_requires_company_and_session(schema):
    body = operation(schema, STATUS_URL)["requestBody"]
    request = resolve(schema, body["content"][JSON]["schema"])

    assert set(body["content"]) == {JSON, FORM, CSV, XML}
    assert sorted(request["required"]) == ["CompanyId", "SessionId"]


def test_the_api_key_is_the_security_of_the_api_but_not_of_the_webhook(schema):
    assert schema["components"]["securitySchemes"] == {
        "ApiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
        }
    }
    assert operation(schema, CHECKOUT_URL)["security"] == [{"ApiKey": []}]
    assert operation(schema, STATUS_URL)["security"] == [{"ApiKey": []}]
    assert operation(schema, WEBHOOK_URL).get("security", []) in ([], [{}])
    assert operation(schema, IPN_CALLBACK_URL).get("security", []) in ([], [{}])
    assert "security" not in schema


@pytest.mark.parametrize("path", [WEBHOOK_URL, IPN_CALLBACK_URL])
def test_the_webhook_takes_a_signed_stripe_event_and_answers_a_receipt(schema, path):
    op = operation(schema, path)

    (signature,) = op["parameters"]
    assert (signature["name"], signature["in"], signature["required"]) == (
        "Stripe-Signature",
        "header",
        True,
    )
    assert list(op["requestBody"]["content"]) == [JSON]
    event = resolve(schema, op["requestBody"]["content"][JSON]["schema"])
    assert event["type"] == "object"
    assert {"id", "type", "data"} <= set(event["required"])
    assert set(op["responses"]) == {"200", "400", "413", "503"}
    receipt = resolve(schema, op["responses"]["200"]["content"][JSON]["schema"])
    assert sorted(receipt["properties"]) == ["EventId", "Outcome"]


def test_the_api_takes_an_idempotency_key_and_a_format(schema):
    parameters = {
        (parameter["in"], parameter["name"]): parameter
        for parameter in operation(schema, CHECKOUT_URL)["parameters"]
    }

    assert set(parameters) == {("header", "Idempotency-Key"), ("query", "format")}
    assert set(parameters["query", "format"]["schema"]["enum"]) == {"json", "csv", "xml"}


@pytest.mark.parametrize("path", list(OPERATIONS))
def test_every_error_is_documented_in_the_servicestack_shape(schema, path):
    responses = operation(schema, path)["responses"]
    formats = [JSON] if path in (WEBHOOK_URL, IPN_CALLBACK_URL) else [JSON, CSV, XML]

    # Each status that the error handler's table gives the operation's errors, and no other.
    documented = set(responses) - {"200"}
    raised = {str(answer_to(type(error.exception)).status) for error in OPERATION_ERRORS[path]}
    assert "200" in responses
    assert documented == raised
    assert documented <= {str(answer.status) for answer in ERROR_ANSWERS.values()}
    for status, response in responses.items():
        assert response["description"]
        assert list(response["content"]) == formats, status
        if status == "200":
            continue
        # The error shape itself, or one of two answers (the webhook's 503).
        documented = response["content"][JSON]["schema"]
        alternatives = resolve(schema, documented).get("oneOf", [documented])
        assert {"$ref": "#/components/schemas/ErrorResponse"} in alternatives, status
        assert response["content"][JSON]["examples"], status


def test_the_error_shape_is_servicestacks_response_status(schema):
    error_response = component(schema, "ErrorResponse")
    response_status = component(schema, "ResponseStatus")
    response_error = component(schema, "ResponseError")

    assert error_response["required"] == ["ResponseStatus"]
    assert error_response["properties"]["ResponseStatus"] == {
        "$ref": "#/components/schemas/ResponseStatus"
    }
    assert sorted(response_status["required"]) == ["ErrorCode", "Errors", "Message"]
    assert response_status["properties"]["Errors"]["items"] == {
        "$ref": "#/components/schemas/ResponseError"
    }
    assert sorted(response_error["required"]) == ["ErrorCode", "FieldName", "Message"]


def test_throttling_and_unavailability_document_retry_after(schema):
    for path in (CHECKOUT_URL, STATUS_URL):
        responses = operation(schema, path)["responses"]
        assert responses["429"]["headers"]["Retry-After"]["required"] is True
        assert "Retry-After" in responses["503"]["headers"]
        assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in operation(schema, WEBHOOK_URL)["responses"]["503"]["headers"]


def test_a_replayed_create_is_documented_by_its_header(schema):
    headers = operation(schema, CHECKOUT_URL)["responses"]["200"]["headers"]

    assert headers["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}


def test_the_seed_sample_request_and_response_are_examples(schema):
    op = operation(schema, CHECKOUT_URL)

    request_examples = op["requestBody"]["content"][JSON]["examples"]
    response_examples = op["responses"]["200"]["content"][JSON]["examples"]
    assert request_examples["BokaMeraSample"]["value"] == SEED_REQUEST
    assert response_examples["BokaMeraSample"]["value"] == SEED_RESPONSE
    # Realistic ones too, in each format.
    assert {"Hosted", "Embedded"} <= set(request_examples)
    assert {"Hosted", "Embedded"} <= set(response_examples)
    for media_type in (CSV, XML):
        assert {"Hosted", "Embedded"} <= set(
            op["responses"]["200"]["content"][media_type]["examples"]
        )


# --- Real responses conform to it --------------------------------------------


@dataclass
class Exchange:
    """A request made through the test client, and what openapi-core needs to judge it."""

    request: MockRequest
    response: HttpResponse


def call(
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    content_type: str = JSON,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Exchange:
    headers = dict(headers or {})
    if key is not None:
        headers["X-Api-Key"] = key
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    elif content_type == FORM:
        data = urlencode(body).encode()
    else:
        data = json.dumps(body).encode()
    url = f"{path}?{urlencode(query)}" if query else path
    response = Client().post(url, data, content_type=content_type, headers=headers)
    request = MockRequest(
        HOST,
        "post",
        path,
        args=query,
        headers=headers,
        data=data,
        content_type=content_type,
    )
    return Exchange(request, response)


def assert_conforms(openapi: OpenAPI, exchange: Exchange, status: int) -> dict[str, Any]:
    """The response has ``status`` and is what the schema documents for it: body and headers."""
    response = exchange.response
    assert response.status_code == status, response.content
    openapi.validate_response(
        exchange.request,
        MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=response["Content-Type"],
        ),
    )
    return json.loads(response.content)


@dataclass
class World:
    company: Company
    key: str
    emulator: StripeEmulator
    settings: Any

    def create(self, **overrides: Any) -> Exchange:
        return call(CHECKOUT_URL, checkout_body(self.company, **overrides), key=self.key)

    def session_id(self, **overrides: Any) -> str:
        exchange = self.create(**overrides)
        assert exchange.response.status_code == 200
        return json.loads(exchange.response.content)["SessionId"]

    def status(self, session_id: str, **kwargs: Any) -> Exchange:
        body = {"CompanyId": str(self.company.id), "SessionId": session_id}
        return call(STATUS_URL, body, key=kwargs.pop("key", self.key), **kwargs)

    def throttle_to_one_request(self) -> None:
        self.settings.REST_FRAMEWORK = {
            **self.settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"api_key": "1/hour"},
        }

    def other_companys_key(self) -> str:
        return make_api_key(make_company(name="Other salon", account="acct_1OtherSalon"))


@pytest.fixture
def world(company, api_key, stripe_emulator, settings) -> World:
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    cache.clear()
    yield World(company, api_key, stripe_emulator, settings)
    cache.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", ["Hosted", "Embedded"])
def test_the_request_examples_succeed_as_they_stand_for_the_demo_company(
    schema, openapi, stripe_emulator, example
):
    demo_key = make_api_key(seed_demo_company(base_url="http://127.0.0.1:8000"))
    content = operation(schema, CHECKOUT_URL)["requestBody"]["content"][JSON]

    exchange = call(CHECKOUT_URL, content["examples"][example]["value"], key=demo_key)

    openapi.validate_request(exchange.request)
    body = assert_conforms(openapi, exchange, 200)
    assert (body["Url"] is None) == (example == "Embedded")
    assert (body["ClientSecret"] is None) == (example == "Hosted")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("media_type", [CSV, XML])
def test_the_csv_and_xml_request_examples_create_checkouts_that_conform(
    schema, openapi, world, media_type
):
    content = operation(schema, CHECKOUT_URL)["requestBody"]["content"][media_type]
    (example,) = content["examples"].values()
    body = example["value"].replace(examples.COMPANY_ID, str(world.company.id))

    exchange = call(CHECKOUT_URL, body, key=world.key, content_type=media_type)

    body = assert_conforms(openapi, exchange, 200)
    assert body["ClientSecret"]


def create_in_a_form(world: World) -> Exchange:
    form = {
        "CompanyId": str(world.company.id),
        "CountryCode": "SE",
        "Articles[0].ArticleId": "1",
        "Articles[0].ArticleTypeId": "1",
        "InternalReferenceId": "booking-form",
    }
    return call(CHECKOUT_URL, form, key=world.key, content_type=FORM)


def create_twice_with_one_idempotency_key(world: World) -> Exchange:
    body = checkout_body(world.company)
    headers = {"Idempotency-Key": "order-1"}
    call(CHECKOUT_URL, body, key=world.key, headers=headers)
    return call(CHECKOUT_URL, body, key=world.key, headers=headers)


def create_for_a_company_without_stripe_checkout(world: World) -> Exchange:
    StripeCheckoutSettings.objects.update(enabled=False)
    return world.create()


def create_for_a_paid_reference(world: World) -> Exchange:
    session_id = world.session_id(InternalReferenceId="booking-paid")
    world.emulator.complete_session(session_id)
    assert world.status(session_id).response.status_code == 200
    return world.create(InternalReferenceId="booking-paid")


def create_while_the_first_request_runs(world: World) -> Exchange:
    ClientIdempotencyKey.objects.create(
        company=world.company, key="order-2", request_fingerprint="in-flight"
    )
    return call(
        CHECKOUT_URL,
        checkout_body(world.company),
        key=world.key,
        headers={"Idempotency-Key": "order-2"},
    )


def reuse_an_idempotency_key(world: World) -> Exchange:
    headers = {"Idempotency-Key": "order-3"}
    call(CHECKOUT_URL, checkout_body(world.company), key=world.key, headers=headers)
    other_body = checkout_body(world.company, InternalReferenceId="booking-other")
    return call(CHECKOUT_URL, other_body, key=world.key, headers=headers)


def create_too_often(world: World) -> Exchange:
    world.throttle_to_one_request()
    world.create()
    return world.create(InternalReferenceId="booking-again")


def create_when_stripe_refuses(world: World) -> Exchange:
    world.emulator.inject_fault(
        "error",
        method="POST",
        path=CREATE_SESSION,
        status=400,
        message="The account is restricted.",
    )
    return world.create()


def create_when_stripe_fails(world: World) -> Exchange:
    world.emulator.inject_fault("error", method="POST", path=CREATE_SESSION, status=500, times=None)
    return world.create()


CREATE_CALLS = {
    "form-body": (create_in_a_form, 200),
    "idempotent-replay": (create_twice_with_one_idempotency_key, 200),
    "invalid-fields": (
        lambda world: world.create(CountryCode="XX", InternalReferenceId="", Articles=[{}]),
        400,
    ),
    "cancel-url-with-embedded": (
        lambda world: world.create(UiMode="embedded", CancelUrl="https://app.example.com/x"),
        400,
    ),
    "unknown-article": (
        lambda world: world.create(Articles=[{"ArticleTypeId": 1, "ArticleId": 404}]),
        400,
    ),
    "malformed-json": (lambda world: call(CHECKOUT_URL, '{"CompanyId": ', key=world.key), 400),
    "stripe-checkout-not-enabled": (create_for_a_company_without_stripe_checkout, 400),
    "no-api-key": (lambda world: call(CHECKOUT_URL, checkout_body(world.company)), 401),
    "unknown-api-key": (
        lambda world: call(CHECKOUT_URL, checkout_body(world.company), key="abc.def"),
        401,
    ),
    "another-companys-key": (
        lambda world: call(
            CHECKOUT_URL, checkout_body(world.company), key=world.other_companys_key()
        ),
        403,
    ),
    "unknown-company": (
        lambda world: call(
            CHECKOUT_URL,
            {**checkout_body(world.company), "CompanyId": "0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b"},
            key=world.key,
        ),
        404,
    ),
    "unknown-format": (
        lambda world: call(
            CHECKOUT_URL, checkout_body(world.company), key=world.key, query={"format": "yaml"}
        ),
        406,
    ),
    "already-paid": (create_for_a_paid_reference, 409),
    "idempotency-key-in-use": (create_while_the_first_request_runs, 409),
    "unsupported-media-type": (
        lambda world: call(CHECKOUT_URL, "a,b", key=world.key, content_type="text/plain"),
        415,
    ),
    "idempotency-key-reused": (reuse_an_idempotency_key, 422),
    "throttled": (create_too_often, 429),
    "stripe-refuses": (create_when_stripe_refuses, 502),
    "stripe-fails": (create_when_stripe_fails, 503),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(CREATE_CALLS))
def test_real_answers_of_create_conform_to_the_schema(openapi, world, case):
    make_call, status = CREATE_CALLS[case]

    body = assert_conforms(openapi, make_call(world), status)

    if status >= 400:
        assert body["ResponseStatus"]["ErrorCode"]


def status_of_a_paid_checkout(world: World) -> Exchange:
    session_id = world.session_id()
    world.emulator.complete_session(session_id, customer_email="kund@example.se")
    return world.status(session_id)


def status_too_often(world: World) -> Exchange:
    session_id = world.session_id()
    world.throttle_to_one_request()
    cache.clear()
    world.status(session_id)
    return world.status(session_id)


def status_when_stripe_refuses(world: World) -> Exchange:
    session_id = world.session_id()
    world.emulator.inject_fault(
        "error", method="GET", path=RETRIEVE_SESSION, status=404, times=None
    )
    return world.status(session_id)


def status_when_stripe_fails(world: World) -> Exchange:
    session_id = world.session_id()
    world.emulator.inject_fault(
        "error", method="GET", path=RETRIEVE_SESSION, status=500, times=None
    )
    return world.status(session_id)


STATUS_CALLS = {
    "open": (lambda world: world.status(world.session_id()), 200),
    "paid": (status_of_a_paid_checkout, 200),
    "missing-session-id": (
        lambda world: call(STATUS_URL, {"CompanyId": str(world.company.id)}, key=world.key),
        400,
    ),
    "no-api-key": (lambda world: call(STATUS_URL, {"SessionId": "cs_test_1"}), 401),
    "another-companys-key": (
        lambda world: world.status("cs_test_1", key=world.other_companys_key()),
        403,
    ),
    "unknown-session": (lambda world: world.status("cs_test_unknown"), 404),
    "unknown-format": (lambda world: world.status("cs_test_1", query={"format": "yaml"}), 406),
    "unsupported-media-type": (
        lambda world: call(STATUS_URL, "a,b", key=world.key, content_type="text/plain"),
        415,
    ),
    "throttled": (status_too_often, 429),
    "stripe-refuses": (status_when_stripe_refuses, 502),
    "stripe-fails": (status_when_stripe_fails, 503),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(STATUS_CALLS))
def test_real_answers_of_status_conform_to_the_schema(openapi, world, case):
    make_call, status = STATUS_CALLS[case]

    exchange = make_call(world)

    if status == 200:
        openapi.validate_request(exchange.request)
    assert_conforms(openapi, exchange, status)


def completed_event(world: World) -> dict[str, Any]:
    """The event the emulator emitted when the customer paid a new checkout."""
    session_id = world.session_id(InternalReferenceId="booking-hook")
    world.emulator.complete_session(session_id)
    return world.emulator.wait_for_event("checkout.session.completed", session_id)


def deliver(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> Exchange:
    payload = encode_event(event)
    signature = sign_payload(payload, secret)
    return call(WEBHOOK_URL, payload, headers={"Stripe-Signature": signature})


def deliver_an_unhandled_event_type(world: World) -> Exchange:
    return deliver({**completed_event(world), "type": "customer.created"})


def deliver_when_stripe_fails(world: World) -> Exchange:
    event = completed_event(world)
    world.emulator.inject_fault(
        "error", method="GET", path=RETRIEVE_SESSION, status=500, times=None
    )
    return deliver(event)


def deliver_without_a_webhook_secret(world: World) -> Exchange:
    event = completed_event(world)
    world.settings.STRIPE_WEBHOOK_SECRET = ""
    return deliver(event)


WEBHOOK_CALLS = {
    "processed": (lambda world: deliver(completed_event(world)), 200, "processed"),
    "ignored": (deliver_an_unhandled_event_type, 200, "ignored"),
    "wrong-signature": (
        lambda world: deliver(completed_event(world), secret="whsec_wrong"),
        400,
        None,
    ),
    "stripe-fails": (deliver_when_stripe_fails, 503, "failed"),
    "not-configured": (deliver_without_a_webhook_secret, 503, None),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(WEBHOOK_CALLS))
def test_real_answers_of_the_webhook_conform_to_the_schema(openapi, world, case):
    make_call, status, outcome = WEBHOOK_CALLS[case]

    exchange = make_call(world)

    openapi.validate_request(exchange.request)
    body = assert_conforms(openapi, exchange, status)
    if outcome:
        assert body["Outcome"] == outcome
    else:
        assert body["ResponseStatus"]["ErrorCode"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("accept", [CSV, XML])
def test_csv_and_xml_answers_are_in_the_documented_formats(schema, world, accept):
    responses = operation(schema, CHECKOUT_URL)["responses"]
    created = call(
        CHECKOUT_URL, checkout_body(world.company), key=world.key, headers={"Accept": accept}
    )
    refused = call(CHECKOUT_URL, checkout_body(world.company), headers={"Accept": accept})

    for exchange, status, name in (
        (created, "200", "StripeCheckoutQueryResponse"),
        (refused, "401", "ErrorResponse"),
    ):
        response = exchange.response
        assert str(response.status_code) == status
        assert response["Content-Type"].split(";")[0] == accept
        assert accept in responses[status]["content"]
        if accept == XML:
            documented = component(schema, name)["xml"]
            root = parse_xml(response.content)
            assert root.tag == f"{{{documented['namespace']}}}{documented['name']}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", CHECKOUT_URL, 405), ("put", STATUS_URL, 405), ("post", f"{CHECKOUT_URL}.yaml", 404)],
)
def test_answers_outside_the_operations_have_the_documented_error_shape(
    schema, api_key, method, path, status
):
    response = getattr(Client(), method)(path, headers={"X-Api-Key": api_key})

    assert response.status_code == status
    error = validator(schema, {"$ref": "#/components/schemas/ErrorResponse"})
    assert list(error.iter_errors(response.json())) == []


# --- Refunds and the payment log conform to it too ------------------------------------


def paid_session_id(world: World, reference: str = "booking-refund") -> str:
    """A checkout the customer paid, recorded as paid (through the status endpoint)."""
    session_id = world.session_id(InternalReferenceId=reference)
    world.emulator.complete_session(session_id, customer_email="kund@example.se")
    assert world.status(session_id).response.status_code == 200
    return session_id


def refund(world: World, session_id: str, *, key: str | None = None, **fields: Any) -> Exchange:
    body = {"CompanyId": str(world.company.id), "SessionId": session_id, **fields}
    return call(REFUND_URL, body, key=key or world.key)


def refund_all_of_a_reference(world: World) -> Exchange:
    paid_session_id(world, "booking-refund")
    body = {"CompanyId": str(world.company.id), "InternalReferenceId": "booking-refund"}
    return call(REFUND_URL, body, key=world.key)


def refund_twice_with_one_idempotency_key(world: World) -> Exchange:
    session_id = paid_session_id(world)
    body = {"CompanyId": str(world.company.id), "SessionId": session_id, "Amount": 100}
    headers = {"Idempotency-Key": "refund-1"}
    call(REFUND_URL, body, key=world.key, headers=headers)
    return call(REFUND_URL, body, key=world.key, headers=headers)


def reuse_an_idempotency_key_for_another_refund(world: World) -> Exchange:
    session_id = paid_session_id(world)
    body = {"CompanyId": str(world.company.id), "SessionId": session_id, "Amount": 100}
    headers = {"Idempotency-Key": "refund-2"}
    call(REFUND_URL, body, key=world.key, headers=headers)
    return call(REFUND_URL, {**body, "Amount": 200}, key=world.key, headers=headers)


def refund_when_stripe_answers(world: World, status: int) -> Exchange:
    session_id = paid_session_id(world)
    world.emulator.inject_fault(
        "error", method="POST", path=CREATE_REFUND, status=status, times=None
    )
    return refund(world, session_id)


REFUND_CALLS = {
    "partial": (lambda world: refund(world, paid_session_id(world), Amount=100), 200),
    "all-of-a-reference": (refund_all_of_a_reference, 200),
    "form-body": (
        lambda world: call(
            REFUND_URL,
            {"CompanyId": str(world.company.id), "SessionId": paid_session_id(world)},
            key=world.key,
            content_type=FORM,
        ),
        200,
    ),
    "idempotent-replay": (refund_twice_with_one_idempotency_key, 200),
    "invalid-fields": (
        lambda world: call(REFUND_URL, {"CompanyId": "x", "Amount": 0}, key=world.key),
        400,
    ),
    "amount-exceeds-refundable": (
        lambda world: refund(world, paid_session_id(world), Amount=45001),
        400,
    ),
    "no-api-key": (lambda world: call(REFUND_URL, {"SessionId": "cs_test_1"}), 401),
    "another-companys-key": (
        lambda world: refund(world, "cs_test_1", key=world.other_companys_key()),
        403,
    ),
    "unknown-session": (lambda world: refund(world, "cs_test_unknown"), 404),
    "unknown-format": (
        lambda world: call(
            REFUND_URL,
            {"CompanyId": str(world.company.id), "SessionId": "cs_test_1"},
            key=world.key,
            query={"format": "yaml"},
        ),
        406,
    ),
    "not-paid": (lambda world: refund(world, world.session_id()), 409),
    "idempotency-key-reused": (reuse_an_idempotency_key_for_another_refund, 422),
    "stripe-refuses": (lambda world: refund_when_stripe_answers(world, 400), 502),
    "stripe-fails": (lambda world: refund_when_stripe_answers(world, 500), 503),
}


def get(
    path: str,
    query: dict[str, str],
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    headers = dict(headers or {})
    if key is not None:
        headers["X-Api-Key"] = key
    response = Client().get(f"{path}?{urlencode(query)}", headers=headers)
    request = MockRequest(HOST, "get", path, args=query, headers=headers)
    return Exchange(request, response)


def payment_log(world: World, **query: str) -> Exchange:
    return get(PAYMENTS_URL, {"CompanyId": str(world.company.id), **query}, key=world.key)


def payment_log_too_often(world: World) -> Exchange:
    world.throttle_to_one_request()
    payment_log(world)
    return payment_log(world)


def payment_log_of_a_refunded_payment(world: World) -> Exchange:
    refund(world, paid_session_id(world), Amount=100)
    world.session_id(InternalReferenceId="booking-open")
    return payment_log(world, PaymentStatus="paid", CreatedFrom="2020-01-01T00:00:00Z")


PAYMENT_LOG_CALLS = {
    "empty": (lambda world: payment_log(world), 200),
    "a-refunded-payment": (payment_log_of_a_refunded_payment, 200),
    "invalid-parameters": (lambda world: payment_log(world, Take="1001", CreatedTo="soon"), 400),
    "no-api-key": (lambda world: get(PAYMENTS_URL, {"CompanyId": str(world.company.id)}), 401),
    "another-companys-key": (
        lambda world: get(
            PAYMENTS_URL, {"CompanyId": str(world.company.id)}, key=world.other_companys_key()
        ),
        403,
    ),
    "unknown-company": (
        lambda world: get(
            PAYMENTS_URL, {"CompanyId": "0d3e6a4c-5b1f-4d8e-9c2a-7f6b5e4d3c2b"}, key=world.key
        ),
        404,
    ),
    "unknown-format": (lambda world: payment_log(world, format="yaml"), 406),
    "throttled": (payment_log_too_often, 429),
}


AFTER_PAYMENT_CALLS = {
    **{f"refund-{name}": case for name, case in REFUND_CALLS.items()},
    **{f"payments-{name}": case for name, case in PAYMENT_LOG_CALLS.items()},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("make_call", "status"), AFTER_PAYMENT_CALLS.values(), ids=list(AFTER_PAYMENT_CALLS)
)
def test_real_answers_of_refunds_and_the_payment_log_conform_to_the_schema(
    openapi, world, make_call, status
):
    exchange = make_call(world)

    body = assert_conforms(openapi, exchange, status)

    if status == 200:
        openapi.validate_request(exchange.request)
    else:
        assert body["ResponseStatus"]["ErrorCode"]
