"""Request dependencies: the database session, the clock and the calling principal."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.db import Database
from retailos.core.errors import Unauthenticated
from retailos.tenants import service as tenants
from retailos.tenants.service import Principal


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session(request: Request) -> Session:
    """The request's session. The route class commits it with the idempotency record or rolls
    it back; handlers never commit."""
    existing: Session | None = getattr(request.state, "session", None)
    if existing is None:
        existing = database(request).sessions()
        request.state.session = existing
    return existing


def clock(request: Request) -> Clock:
    c: Clock = request.app.state.clock
    return c


def presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


# Declared so that OpenAPI documents the bearer scheme on exactly the endpoints that need a key;
# the token itself is read by presented_token, which also accepts an X-API-Key header.
bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                    description="An API key: `Authorization: Bearer rk_...`")


def principal(
    request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = presented_token(request)
    if not token:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    found = tenants.authenticate(session(request), token)
    request.state.principal = found
    return found


def scoped(scope: str) -> Callable[[Request], Principal]:
    """A dependency that yields the principal if its key holds `scope`, else 403."""

    def dependency(
        request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Principal:
        who = principal(request)
        who.require(scope)
        return who

    dependency.__name__ = f"scope_{scope.replace(':', '_')}"
    return dependency
