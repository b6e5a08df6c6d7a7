"""Tenants and API keys over HTTP."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy.orm import Session

from retailos.api.deps import clock, principal, scoped, session
from retailos.api.routing import make_router
from retailos.core.clock import Clock
from retailos.core.errors import NotFound
from retailos.tenants import service
from retailos.tenants.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    IssuedKeyOut,
    TenantIn,
    TenantOut,
    TenantWithKeyOut,
)
from retailos.tenants.service import IssuedKey, Principal

router = make_router("/v1", "tenants")


def _issued(issued: IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut.model_validate(
        {**ApiKeyOut.model_validate(issued.key).model_dump(), "token": issued.token}
    )


@router.get("/me", response_model=TenantOut, summary="The tenant behind the calling key")
def me(who: Principal = Depends(principal), db: Session = Depends(session)) -> TenantOut:
    return TenantOut.model_validate(service.get_tenant(db, who.tenant_id))


@router.post("/tenants", status_code=201, response_model=TenantWithKeyOut,
             summary="Create a tenant (operator only) with its first API key")
def create_tenant(
    body: TenantIn,
    who: Principal = Depends(scoped("tenants:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> TenantWithKeyOut:
    tenant = service.create_tenant(db, now, body.kind, body.name, body.default_currency)
    issued = service.create_api_key(db, now, tenant.id, "first key")
    return TenantWithKeyOut(tenant=TenantOut.model_validate(tenant), api_key=_issued(issued))


@router.get("/tenants", response_model=list[TenantOut],
            summary="Tenants: all for the operator, one's own otherwise")
def list_tenants(
    who: Principal = Depends(scoped("tenants:read")), db: Session = Depends(session)
) -> list[TenantOut]:
    found = service.list_tenants(db) if who.is_operator else [service.get_tenant(db, who.tenant_id)]
    return [TenantOut.model_validate(t) for t in found]


@router.get("/tenants/{tenant_id}", response_model=TenantOut)
def get_tenant(
    tenant_id: str, who: Principal = Depends(scoped("tenants:read")), db: Session = Depends(session)
) -> TenantOut:
    if not who.is_operator and tenant_id != who.tenant_id:
        raise NotFound(f"no tenant {tenant_id}")
    return TenantOut.model_validate(service.get_tenant(db, tenant_id))


@router.post("/api-keys", status_code=201, response_model=IssuedKeyOut,
             summary="Create an API key for the calling tenant; the token is shown once")
def create_key(
    body: ApiKeyIn,
    who: Principal = Depends(scoped("keys:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> IssuedKeyOut:
    return _issued(service.create_api_key(db, now, who.tenant_id, body.name, body.scopes))


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_keys(
    who: Principal = Depends(scoped("keys:write")), db: Session = Depends(session)
) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_api_keys(db, who.tenant_id)]


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut)
def revoke_key(
    key_id: str,
    who: Principal = Depends(scoped("keys:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> ApiKeyOut:
    return ApiKeyOut.model_validate(service.revoke_api_key(db, now, who.tenant_id, key_id))
