"""Every failure leaves the API as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from retailos.core.errors import Busy, Problem

log = logging.getLogger("retailos.api")
MEDIA_TYPE = "application/problem+json"

_HTTP_SLUGS = {
    401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    406: "not-acceptable", 413: "payload-too-large", 415: "unsupported-media-type",
}


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path), status_code=problem.status, media_type=MEDIA_TYPE
    )


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        out.append({
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        })
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _jsonable_errors(exc.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
        body = {
            "type": "urn:retailos:problem:invalid-input", "title": "The request is not valid",
            "status": 422, "detail": detail, "instance": request.url.path, "errors": errors,
        }
        return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
        body = {
            "type": f"urn:retailos:problem:{slug}", "title": str(exc.detail),
            "status": exc.status_code, "detail": str(exc.detail), "instance": request.url.path,
        }
        return JSONResponse(body, status_code=exc.status_code, media_type=MEDIA_TYPE,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def on_busy(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database busy", extra={"path": request.url.path, "error": str(exc.orig)})
        return problem_response(Busy("the database is busy; retry with the same key"), request)

    @app.exception_handler(DBAPIError)
    async def on_db(request: Request, exc: DBAPIError) -> JSONResponse:
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if code in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock timeout
            return problem_response(Busy("the database asked for a retry"), request)
        return _internal(request, exc)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    body = {
        "type": "urn:retailos:problem:internal", "title": "Internal error", "status": 500,
        "detail": "an unexpected error occurred; nothing was changed", "instance": request.url.path,
    }
    return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)
