"""Tenants and API keys: the only code that writes their tables.

A key is `rk_<key id>.<secret>`; only a SHA-256 of the 256-bit secret is stored, so a leaked
database does not leak keys, and the key id makes the lookup a primary-key read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from retailos.core.ids import new_id
from retailos.core.money import check_currency
from retailos.tenants.models import TENANT_KINDS, ApiKey, Tenant
from retailos.tenants.scopes import DEFAULT_SCOPES, check_scopes, grants


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant behind an API key, and what the key may do."""

    tenant_id: str
    tenant_kind: str
    key_id: str
    scopes: tuple[str, ...]

    @property
    def is_operator(self) -> bool:
        return self.tenant_kind == "operator"

    def require(self, scope: str) -> None:
        if not grants(list(self.scopes), scope):
            raise Forbidden(f"this API key lacks the scope {scope!r}", scope=scope)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tenant(
    session: Session, clock: Clock, kind: str, name: str, currency: str = "USD"
) -> Tenant:
    if kind not in TENANT_KINDS:
        raise InvalidInput(f"tenant kind must be one of {', '.join(TENANT_KINDS)}", field="kind")
    if not name.strip():
        raise InvalidInput("tenant name must not be empty", field="name")
    try:
        check_currency(currency)
    except ValueError as e:
        raise InvalidInput(str(e), field="default_currency") from None
    tenant = Tenant(
        id=new_id("ten"), kind=kind, name=name.strip(), default_currency=currency,
        created_at=clock.now(),
    )
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.id)))


def operator_tenant(session: Session) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.kind == "operator").limit(1)).first()


def create_api_key(
    session: Session,
    clock: Clock,
    tenant_id: str,
    name: str,
    scopes: list[str] | None = None,
) -> IssuedKey:
    tenant = get_tenant(session, tenant_id)
    try:
        chosen = check_scopes(scopes if scopes is not None else DEFAULT_SCOPES[tenant.kind])
    except ValueError as e:
        raise InvalidInput(str(e), field="scopes") from None
    operator_only = {"*", "tenants:write", "billing:write"}
    if tenant.kind != "operator" and operator_only & set(chosen):
        raise Forbidden("only the operator's keys may hold '*', tenants:write or billing:write")
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"), tenant_id=tenant.id, name=name, secret_hash=_hash(secret),
        scopes=chosen, created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=f"rk_{key.id}.{secret}")


def list_api_keys(session: Session, tenant_id: str) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id)
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, clock: Clock, tenant_id: str, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id:
        raise NotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
    return key


# Built once: every request authenticates, and building a select() and its cache key each time
# costs more CPU than running it.
_LIVE_KEY = (
    select(ApiKey.secret_hash, ApiKey.scopes, Tenant.id, Tenant.kind)
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    .where(ApiKey.id == bindparam("key"), ApiKey.revoked_at.is_(None))
)


def authenticate(session: Session, token: str) -> Principal:
    """The principal behind a presented key, or Unauthenticated. One read per request: the key
    and its tenant together, by primary key."""
    key_id, _, secret = token.removeprefix("rk_").partition(".")
    found = None
    if token.startswith("rk_") and secret:
        found = session.execute(_LIVE_KEY, {"key": key_id}).first()
    if found is None or not hmac.compare_digest(found.secret_hash, _hash(secret)):
        raise Unauthenticated("the API key is missing, unknown or revoked")
    return Principal(
        tenant_id=found.id, tenant_kind=found.kind, key_id=key_id, scopes=tuple(found.scopes)
    )
