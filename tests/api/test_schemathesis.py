"""Contract tests: schemathesis attacks every operation of the OpenAPI document that a live
server serves, with valid and invalid input, as a retailer and as the operator. No answer may
be a 5xx, and every answer must be one the document describes (status code, content type, body
schema). Endpoints that other packages add are covered as soon as they are mounted."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Actor, LiveServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Examples per operation, and per run: as packages add operations, each gets fewer examples
# (never under 5) so the whole test stays well under three minutes.
EXAMPLES_PER_OPERATION = 20
EXAMPLES_PER_RUN = 1400


@pytest.fixture
def actors(make_actor: Callable[..., Actor]) -> list[Actor]:
    return [make_actor("retailer", "Contract Retailer"), make_actor("operator", "Operator")]


@pytest.mark.timeout(300)
def test_every_operation_keeps_its_contract(live_server: LiveServer, actors: list[Actor]) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    failures: dict[str, str] = {}
    checked: list[str] = []
    statuses: Counter[int] = Counter()
    slowest: list[tuple[float, str]] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    examples = max(5, min(EXAMPLES_PER_OPERATION, EXAMPLES_PER_RUN // len(operations)))
    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        # Negative cases include requests without the Authorization header: those must be 401s.
        @given(case=cases)
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def attack(case: Case) -> None:
            for actor in actors:
                response = case.call_and_validate(base_url=live_server.url,
                                                  headers=actor.headers, checks=CHECKS,
                                                  timeout=30)
                statuses[response.status_code] += 1

        op_started = time.monotonic()
        try:
            attack()
        except Exception as e:  # one report for every operation that broke its contract
            failures[operation.label] = str(e)[:4000]
        checked.append(operation.label)
        slowest.append((time.monotonic() - op_started, operation.label))
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(checked)} operations, {sum(statuses.values())} requests in "
          f"{elapsed:.1f}s; statuses {dict(sorted(statuses.items()))}; slowest "
          + ", ".join(f"{label} {s:.1f}s" for s, label in sorted(slowest, reverse=True)[:5]))
    assert len(checked) >= 10
    assert failures == {}, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
