"""One unit of work per request, and Idempotency-Key on every POST.

Each request gets a session (see deps.session). When the handler succeeds, its changes commit
together with the idempotency record; when it fails, everything rolls back. A replayed key
returns the stored response without running the handler again.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from retailos.api import deps
from retailos.core import idempotency
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
    if pending is not None:
        key, fingerprint = pending
        session.add(IdempotencyRecord(
            tenant_id=deps.principal(request).tenant_id, key=key, method=request.method,
            path=request.url.path, request_hash=fingerprint, status_code=response.status_code,
            content_type=response.headers.get("content-type", "application/json"),
            body=bytes(response.body).decode(), created_at=deps.clock(request).now(),
        ))
    try:
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


def _end(request: Request) -> None:
    session = getattr(request.state, "session", None)
    if session is not None:
        session.rollback()
        session.close()
        request.state.session = None


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _one_at_a_time(request: Request) -> AsyncIterator[None]:
    """On SQLite, one request per process touches the database at a time.

    SQLite has one writer, and our transactions take its lock when they begin. A request holding
    it still needs worker threads for its dependencies and handler; if every worker thread were
    blocked waiting for the lock, the holder could never finish. Queueing requests here, in the
    event loop, keeps the threads free. Other processes still queue on the lock itself.
    """
    if not request.app.state.db.is_sqlite:
        yield
        return
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Lock()
    async with gate:
        yield


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            async with _one_at_a_time(request):
                return await unit_of_work(request)

        async def unit_of_work(request: Request) -> Response:
            try:
                key = request.headers.get("idempotency-key")
                if request.method == "POST" and key is not None:
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
