"""One unit of work per request, and Idempotency-Key on every POST.

Each request gets a session (see deps.session). When the handler succeeds, its changes commit
together with the idempotency record; when it fails, everything rolls back. A replayed key
returns the stored response without running the handler again.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from retailos.api import deps
from retailos.core import idempotency
from retailos.core.db import insert_rows
from retailos.core.idempotency import IdempotencyRecord

REPLAY_HEADER = "Idempotent-Replayed"


def _replay(record: IdempotencyRecord) -> Response:
    return Response(
        content=record.body, status_code=record.status_code, media_type=record.content_type,
        headers={REPLAY_HEADER: "true"},
    )


def _lookup(request: Request, key: str, body: bytes) -> Response | None:
    who = deps.principal(request)
    fingerprint = idempotency.request_fingerprint(request.method, request.url.path, body)
    request.state.idempotency = (key, fingerprint)
    record = idempotency.find(deps.session(request), who.tenant_id, key, fingerprint)
    return _replay(record) if record is not None else None


def _commit(request: Request, response: Response) -> Response | None:
    session = getattr(request.state, "session", None)
    if session is None:
        return None
    pending = getattr(request.state, "idempotency", None)
    try:
        if pending is not None:
            _record(request, response, session, *pending)
        session.commit()
    except IntegrityError:
        session.rollback()
        if pending is None:
            raise
        # A concurrent request with the same key committed first: answer with its result.
        record = idempotency.find(session, deps.principal(request).tenant_id, *pending)
        if record is None:
            raise
        return _replay(record)
    return None


def _record(
    request: Request, response: Response, session: Session, key: str, fingerprint: str
) -> None:
    """Store the response for replays of the key: one INSERT, past the unit of work, which
    then has nothing left to flush at the commit."""
    content_type = response.headers.get("content-type", "application/json")
    insert_rows(session, [IdempotencyRecord(
        tenant_id=deps.principal(request).tenant_id, key=key, method=request.method,
        path=request.url.path, request_hash=fingerprint, status_code=response.status_code,
        content_type=content_type, created_at=deps.clock(request).now(),
        body=idempotency.storable_body(bytes(response.body), content_type),
    )])


def _end(request: Request) -> None:
    session = getattr(request.state, "session", None)
    if session is not None:
        session.rollback()
        session.close()
        request.state.session = None


def _admitted(request: Request) -> asyncio.Semaphore:
    """How many requests of this process may hold a database transaction at once.

    A request holding a transaction (SQLite's write lock, PostgreSQL row locks, a pooled
    connection) still needs worker threads for its dependencies, handler and commit. If every
    worker thread were blocked behind it, waiting for the lock or a connection, it could never
    finish. So requests queue here, in the event loop, before they touch the database: one at a
    time on SQLite (one writer), and no more than the connection pool on PostgreSQL, which is
    well below the worker threads. Other processes queue on the database's own locks.
    """
    state = request.app.state
    if not hasattr(state, "admission"):
        state.admission = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    gate: asyncio.Semaphore | None = state.admission.get(loop)
    if gate is None:
        size = 1 if state.db.is_sqlite else max(1, state.db.engine.pool.size())
        gate = state.admission[loop] = asyncio.Semaphore(size)
    return gate


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            async with _admitted(request):
                return await unit_of_work(request)

        async def unit_of_work(request: Request) -> Response:
            try:
                key = request.headers.get("idempotency-key")
                # Keys are per tenant, so they apply to callers with an API key; endpoints
                # authenticated otherwise (a provider's signed webhook) are idempotent by design.
                if request.method == "POST" and key is not None and deps.presented_token(request):
                    idempotency.check_key(key)
                    replay = await run_in_threadpool(_lookup, request, key, await request.body())
                    if replay is not None:
                        return replay
                response = await inner(request)
                if 200 <= response.status_code < 300:
                    replay = await run_in_threadpool(_commit, request, response)
                    if replay is not None:
                        return replay
                return response
            finally:
                await run_in_threadpool(_end, request)

        return handler


def make_router(prefix: str, tag: str) -> APIRouter:
    """The router every package's api.py starts from."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=UnitOfWorkRoute)
