"""The FastAPI application: error handling, operations, and every package's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from retailos.api import ops, problems
from retailos.billing.api import router as billing_router
from retailos.catalog.api import router as catalog_router
from retailos.core.clock import Clock, SystemClock
from retailos.core.db import Database
from retailos.core.settings import Settings, get_settings
from retailos.inventory.api import router as inventory_router
from retailos.ledger.api import router as ledger_router
from retailos.orders.api import router as orders_router
from retailos.payments.api import router as payments_router
from retailos.tenants.api import router as tenants_router
from retailos.webhooks.api import router as webhooks_router

ROUTERS = [tenants_router, catalog_router, inventory_router,
           webhooks_router, payments_router, orders_router,
           ledger_router, billing_router]


def create_app(
    db: Database | None = None, clock: Clock | None = None, settings: Settings | None = None
) -> FastAPI:
    settings = settings or get_settings()
    worker_settings = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from retailos import handlers
        from retailos.webhooks.worker import Worker

        worker = None
        if worker_settings.run_workers:
            handlers.install()
            worker = Worker(app.state.db, app.state.clock, worker_settings,
                            upkeep=handlers.UPKEEP).start()
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="RetailOS API",
        version="0.1.0",
        description=(
            "A retail operating system. Authenticate with `Authorization: Bearer <api key>`. "
            "Every POST accepts an `Idempotency-Key` header. Errors are RFC 9457 problem details."
        ),
    )
    app.state.db = db or Database(settings.database_url)
    app.state.clock = clock or SystemClock()
    problems.install(app)
    ops.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Document the bearer scheme, Idempotency-Key on POSTs, and problem responses."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = {
        "type": "object",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"},
        },
        "required": ["type", "title", "status"],
    }
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Invalid input", "content": problem}
            responses.setdefault("default", {"description": "Problem", "content": problem})
            if method == "post":
                op.setdefault("parameters", []).append({
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Replays return the first result; another body gets 409.",
                })
    app.openapi_schema = schema
    return schema

