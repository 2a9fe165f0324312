"""The OpenAPI document matches the behaviour: schemathesis generates requests from it and checks the answers."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

#: Few examples per operation and mode keep the suite fast (a few seconds) while still probing every field.
EXAMPLES = 25


@pytest.fixture
def api_schema(app, make_device):
    app.config.update(API_RATE_PER_SECOND=10_000, API_RATE_BURST=10_000)
    _, key = make_device()
    # 413 is the documented answer to a batch over maxItems, so it counts as rejecting invalid data.
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": [400, 401, 413, 429]}}}
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    return schema, key


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_and_no_mismatch(api_schema, mode):
    """Does every generated request — valid or not — get a documented status, content type and body shape?"""
    schema, key = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /api/v1/ratings", "GET /api/v1/health"}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET":
            continue  # nothing to negate: these operations take no input

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"})

        check()
