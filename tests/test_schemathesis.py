"""A bounded schemathesis run from the service's own ``/openapi.json``: requests generated
from the schema (valid ones and invalid ones) get no 5xx, and every answer is what the
schema documents for its status (body, headers and content type).

Generation is derandomized, so each run sends the same requests; the examples per
operation are bounded so that the run takes seconds.
"""

import csv
import io
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bokacheckout.wsgi import application

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("text/csv")
def servicestack_csv(ctx, value) -> bytes:
    """A generated request as ServiceStack's CSV: a header row and one row of values, a
    nested value as JSON (which the service reads as it reads JSV), a null as empty."""
    if not isinstance(value, dict):
        return json.dumps(value).encode()
    cells = [
        "" if item is None else json.dumps(item) if isinstance(item, dict | list) else str(item)
        for item in value.values()
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(value), cells])
    return buffer.getvalue().encode()


@pytest.fixture
def api_schema(transactional_db):
    """The schema as the service serves it, its requests sent to the WSGI application."""
    return schemathesis.openapi.from_wsgi("/openapi.json", application)


def operations(api_schema):
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_requests_generated_from_the_schema_get_documented_answers_and_no_5xx(
    api_schema, company, api_key, stripe_emulator, mode
):
    company_id = str(company.id)

    def as_our_client(case):
        """The company's own key, and often its own CompanyId, so that requests get past
        the company check to the rules behind it."""
        case.headers = {**(case.headers or {}), "X-Api-Key": api_key}
        if isinstance(case.body, dict) and "CompanyId" in case.body:
            case.body["CompanyId"] = company_id
        return case

    for operation in operations(api_schema):

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode).map(as_our_client))
        def answers_as_documented(case):
            case.call_and_validate(checks=CHECKS)

        answers_as_documented()
