"""Operations: health, Prometheus metrics, structured JSON request logs."""

from __future__ import annotations

import logging
import sys
import time

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app.add_middleware(Observe, requests=requests, latency=latency)

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


class Observe:
    """Counts, times and logs every HTTP request, and answers 413 to a body over the limit,
    declared or streamed. Plain ASGI rather than `@app.middleware("http")`, which would pass
    every request through an extra task and memory streams."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app fails before it answers
        received = 0

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def capped() -> Message:
            # a body sent without Content-Length (chunked) is counted as it arrives
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise _TooLarge
            return message

        try:
            if not _size_ok(scope):
                await _too_large(scope)(scope, receive, observed)
                return
            try:
                await self.app(scope, capped, observed)
            except _TooLarge:
                if status != 500:
                    raise  # already answering: nothing better to send
                await _too_large(scope)(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(elapsed)
            log.info("request", extra={
                "method": method, "path": scope["path"], "route": route, "status": status,
                "ms": round(elapsed * 1000, 2),
            })


class _TooLarge(Exception):
    """The body grew past MAX_BODY_BYTES while it was read."""


def _size_ok(scope: Scope) -> bool:
    length = Headers(scope=scope).get("content-length")
    return length is None or not length.isdigit() or int(length) <= MAX_BODY_BYTES


def _too_large(scope: Scope) -> Response:
    body = {
        "type": "urn:retailos:problem:payload-too-large", "title": "Request body too large",
        "status": 413, "detail": f"request bodies are limited to {MAX_BODY_BYTES} bytes",
        "instance": scope["path"],
    }
    return JSONResponse(body, status_code=413, media_type="application/problem+json")
