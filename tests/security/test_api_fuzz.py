"""Schemathesis fuzzes every operation of /api/schema/ through the WSGI application (the whole
middleware stack; committed data, every request in its own transactions as in production), as a
demo member with a token and as an anonymous caller, with well-formed and malformed input.

Not only "no 5xx": every answer must be one the schema documents (status code, content type,
headers, body schema), for well-formed and for malformed input alike. Examples are bounded and
derandomized so the run is reproducible and stays within a few minutes in CI; the rate limits
are raised for the run (they are tested on their own in test_limits_and_input).
"""

import io
import os
import time

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Examples per operation for each caller: well-formed, malformed. 90 per operation in all keeps
# the run near two and a half minutes here; API_FUZZ_SCALE=4 gives a nightly run 360 each.
SCALE = int(os.environ.get("API_FUZZ_SCALE", "1"))
EXAMPLES = {
    "member": {GenerationMode.POSITIVE: 40 * SCALE, GenerationMode.NEGATIVE: 20 * SCALE},
    "anonymous": {GenerationMode.POSITIVE: 20 * SCALE, GenerationMode.NEGATIVE: 10 * SCALE},
}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Not asked for: positive_data_acceptance (a well-formed request may still be refused by a
# business rule, wrong password, too old to join: that 400 is documented) and
# negative_data_rejection (DRF reads an empty `?page=` as the first page, as clients expect).


@pytest.fixture
def unlimited(monkeypatch):
    for scope in list(SimpleRateThrottle.THROTTLE_RATES):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000000/min")


def fuzz_operation(operation, mode, examples, headers):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples every run: CI stays reproducible
    )
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CONFORMANCE)

    try:
        fuzz()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing in this operation can be malformed


def test_every_api_operation_conforms_to_the_schema(transactional_db, unlimited):
    call_command("seed_demo", stdout=io.StringIO())
    member = get_user_model().objects.get(username="alice")
    token = Token.objects.get_or_create(user=member)[0].key
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    callers = {"member": {"Authorization": f"Token {token}"}, "anonymous": {}}
    failures, tested = [], []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.label)
        for caller, headers in callers.items():
            for mode, examples in EXAMPLES[caller].items():
                try:
                    fuzz_operation(operation, mode, examples, headers)
                except (Exception, BaseExceptionGroup) as exc:  # collect all, report all
                    failures.append(f"{operation.label} as {caller}, {mode.value}: {exc}")
    print(f"\n{len(tested)} operations fuzzed in {time.monotonic() - started:.0f} s")
    assert len(tested) >= 25, tested
    assert not failures, "\n\n".join(failures)
