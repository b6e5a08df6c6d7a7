"""Operations: health, Prometheus metrics, structured JSON request logs."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text

log = logging.getLogger("retailos.http")
MAX_BODY_BYTES = 1 << 20  # the largest request the API reads: 1 MiB


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    root = logging.getLogger("retailos")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def install(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "retailos_http_requests_total", "HTTP requests", ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "retailos_http_request_seconds", "HTTP request latency", ["method", "route"],
        registry=registry,
    )

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request) if _size_ok(request) else _too_large(request)
        elapsed = time.perf_counter() - start
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(request.method, route).observe(elapsed)
        log.info("request", extra={
            "method": request.method, "path": request.url.path, "route": route,
            "status": response.status_code, "ms": round(elapsed * 1000, 2),
        })
        return response

    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness and database reachability")
    def health(request: Request) -> dict[str, str]:
        with request.app.state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": request.app.state.db.engine.dialect.name}

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)


def _size_ok(request: Request) -> bool:
    length = request.headers.get("content-length")
    return length is None or not length.isdigit() or int(length) <= MAX_BODY_BYTES


def _too_large(request: Request) -> Response:
    from fastapi.responses import JSONResponse

    body = {
        "type": "urn:retailos:problem:payload-too-large", "title": "Request body too large",
        "status": 413, "detail": f"request bodies are limited to {MAX_BODY_BYTES} bytes",
        "instance": request.url.path,
    }
    return JSONResponse(body, status_code=413, media_type="application/problem+json")
