"""Operations: health, metrics, JSON request logs, and problem details for every failure the
framework itself raises (unknown route, wrong method, bad JSON, an unhandled exception)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from retailos.api import ops
from retailos.api.app import create_app
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from tests.conftest import Actor

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, object] = r.json()
    assert body["type"] == f"urn:retailos:problem:{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The `retailos` loggers configured as in production (JSON), written to a buffer."""
    logger = logging.getLogger("retailos")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    ops.configure_logging("INFO", json_logs=True)
    stream = io.StringIO()
    handler = logger.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    logger.handlers[:], logger.level, logger.propagate = saved


def test_health_reports_the_database(client: TestClient, db: Database) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": db.engine.dialect.name}


def test_metrics_count_requests_by_route_and_status(client: TestClient, retailer: Actor) -> None:
    client.get("/v1/me", headers=retailer.headers)
    client.get("/v1/me")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert 'retailos_http_requests_total{method="GET",route="/v1/me",status="200"} 1.0' in lines
    assert 'retailos_http_requests_total{method="GET",route="/v1/me",status="401"} 1.0' in lines
    assert any(line.startswith("retailos_http_request_seconds_bucket") for line in lines)


def test_each_request_is_one_json_log_line(
    client: TestClient, retailer: Actor, log_lines: io.StringIO
) -> None:
    client.get("/v1/me", headers=retailer.headers)
    client.get("/v1/no-such-thing")
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    requests = [r for r in records if r["message"] == "request"]
    assert [(r["method"], r["path"], r["route"], r["status"]) for r in requests] == [
        ("GET", "/v1/me", "/v1/me", 200),
        ("GET", "/v1/no-such-thing", "unmatched", 404),
    ]
    assert {"time", "level", "logger", "ms"} <= set(requests[0])
    assert requests[0]["logger"] == "retailos.http"


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/v1/no-such-thing"


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    r = client.delete("/health")
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "GET"


@pytest.mark.parametrize("body", [
    b"{",                                   # truncated
    b"\xff\xfe{}",                          # not UTF-8
    b'"a string, not an object"',           # JSON of the wrong shape
    b"[" * 100_000,                         # nested too deep to parse
    b'{"name": "' + b"x" * 2_000_000 + b'"}',  # far past the field's limit
])
def test_malformed_or_oversized_json_is_a_4xx_problem(
    client: TestClient, retailer: Actor, body: bytes
) -> None:
    r = client.post("/v1/api-keys", content=body,
                    headers={**retailer.headers, "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text[:300]
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == r.status_code
    assert client.get("/v1/api-keys", headers=retailer.headers).json()[0]["name"] == "test"


def test_an_unhandled_exception_is_a_500_problem_that_tells_nothing_inside(
    db: Database, clock: ManualClock, log_lines: io.StringIO
) -> None:
    app = create_app(db=db, clock=clock)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    body = assert_problem(r, 500, "internal")
    assert "secret internals" not in r.text
    assert body["instance"] == "/boom"
    errors = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    logged = [e for e in errors if e["message"] == "unhandled error"]
    assert len(logged) == 1 and "secret internals" in logged[0]["exc_info"]


def test_a_body_over_the_limit_is_a_413_problem(client: TestClient, retailer: Actor) -> None:
    from retailos.api.ops import MAX_BODY_BYTES

    r = client.post("/v1/api-keys", content=b"x" * (MAX_BODY_BYTES + 1),
                    headers={**retailer.headers, "content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_a_chunked_body_over_the_limit_is_a_413_problem_too(
    client: TestClient, retailer: Actor
) -> None:
    from retailos.api.ops import MAX_BODY_BYTES

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/v1/carts", content=chunks(),
                    headers={**retailer.headers, "content-type": "application/json",
                             "idempotency-key": "chunked-1"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_only_key_authenticated_operations_are_documented_as_needing_a_key(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "security" not in paths["/v1/payments/provider-events"]["post"]
    assert "security" not in paths["/health"]["get"]
    assert paths["/v1/me"]["get"]["security"] == [{"apiKey": []}]
