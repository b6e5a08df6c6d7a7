"""Contract tests: schemathesis attacks every operation of the OpenAPI document that a live
server serves, with valid and invalid input, as a retailer and as the operator. No answer may
be a 5xx, and every answer must be one the document describes (status code, content type, body
schema). Endpoints that other packages add are covered as soon as they are mounted.

Random ids in paths would only ever meet 404s, so ids that earlier answers returned are fed
back: an operation on `/things/{thing_id}` also gets the ids seen in answers from `/things`.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Actor, LiveServer


def problem_details(ctx: Any, response: Any, case: Case) -> None:
    """Every 4xx is an RFC 9457 problem with a stable RetailOS type and the same status."""
    if response.status_code < 400:
        return
    content_type = "".join(response.headers.get("content-type", []))
    assert content_type == "application/problem+json", f"a {response.status_code} as {content_type}"
    body = response.json()
    assert str(body.get("type", "")).startswith("urn:retailos:problem:"), body
    assert body.get("status") == response.status_code, body


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, problem_details]
# Examples per operation, and per run: as packages add operations, each gets fewer examples
# (never under 5) so the whole test stays well under three minutes.
EXAMPLES_PER_OPERATION = 20
EXAMPLES_PER_RUN = 1400
PARAM = re.compile(r"\{(\w+)\}")


class KnownIds:
    """Ids from answers, by the collection path that returned them (`/v1/things`)."""

    def __init__(self, protected: set[str]) -> None:
        self.by_collection: dict[str, set[str]] = defaultdict(set)
        self.protected = protected  # the callers' own API keys must not be revoked mid-run

    def harvest(self, path: str, body: Any) -> None:
        items = body.get("data") if isinstance(body, dict) and "data" in body else body
        for item in items if isinstance(items, list) else [items]:
            rid = item.get("id") if isinstance(item, dict) else None
            if isinstance(rid, str) and rid not in self.protected:
                self.by_collection[path].add(rid)

    def choices(self, operation: APIOperation) -> dict[str, list[str]]:
        found = {}
        for match in PARAM.finditer(operation.path):
            collection = operation.path[:match.start()].rstrip("/")
            ids = self.by_collection.get(collection)
            if ids:
                found[match.group(1)] = sorted(ids)
        return found


def cases_for(operation: APIOperation, known: KnownIds) -> st.SearchStrategy[Case]:
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = st.one_of(*(operation.as_strategy(m) for m in modes))
    choices = known.choices(operation)
    if not choices:
        return generated
    with_ids = st.fixed_dictionaries(
        {name: st.sampled_from(ids) for name, ids in choices.items()}
    ).flatmap(lambda params: st.one_of(
        *(operation.as_strategy(m, path_parameters=params) for m in modes)))
    return st.one_of(generated, with_ids)


def describe(e: BaseException) -> str:
    """A failure's report (schemathesis puts the curl command to reproduce it in there)."""
    if isinstance(e, BaseExceptionGroup):
        return "\n".join([e.message, *(describe(inner) for inner in e.exceptions)])
    return f"{type(e).__name__}: {e}"


@pytest.fixture
def actors(make_actor: Callable[..., Actor]) -> list[Actor]:
    return [make_actor("retailer", "Contract Retailer"), make_actor("operator", "Operator")]


@pytest.mark.timeout(300)
def test_every_operation_keeps_its_contract(live_server: LiveServer, actors: list[Actor]) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    known = KnownIds({a.token.removeprefix("rk_").partition(".")[0] for a in actors})
    failures: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    slowest: list[tuple[float, str]] = []
    started = time.monotonic()
    # Collections first, so their answers supply ids to the operations on their members.
    operations = sorted((r.ok() for r in schema.get_all_operations()),
                        key=lambda op: len(PARAM.findall(op.path)))
    examples = max(5, min(EXAMPLES_PER_OPERATION, EXAMPLES_PER_RUN // len(operations)))
    for operation in operations:
        # Negative cases include requests without the Authorization header: those must be 401s.
        @given(case=cases_for(operation, known))
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def attack(case: Case) -> None:
            for actor in actors:
                response = case.call_and_validate(base_url=live_server.url,
                                                  headers=actor.headers, checks=CHECKS,
                                                  timeout=30)
                statuses[response.status_code] += 1
                if response.status_code < 300 and "json" in "".join(
                        response.headers.get("content-type", [])):
                    known.harvest(case.operation.path, response.json())

        op_started = time.monotonic()
        try:
            attack()
        except (Exception, BaseExceptionGroup) as e:  # schemathesis raises failure groups;
            # collect them so one run reports every operation that broke its contract
            failures[operation.label] = describe(e)[:4000]
        slowest.append((time.monotonic() - op_started, operation.label))
    elapsed = time.monotonic() - started
    fed = sum(len(ids) for ids in known.by_collection.values())
    print(f"schemathesis: {len(operations)} operations, {sum(statuses.values())} requests in "
          f"{elapsed:.1f}s; {fed} ids fed back; statuses {dict(sorted(statuses.items()))}; slowest "
          + ", ".join(f"{label} {s:.1f}s" for s, label in sorted(slowest, reverse=True)[:5]))
    assert len(operations) >= 10
    assert failures == {}, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
