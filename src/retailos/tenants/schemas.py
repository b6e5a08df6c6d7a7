"""API shapes for tenants and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TenantKind = Literal["operator", "retailer", "seller", "partner_store"]


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["retailer", "seller", "partner_store"]
    name: str = Field(min_length=1, max_length=200)
    default_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: TenantKind
    name: str
    default_currency: str
    created_at: datetime


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = Field(default=None, max_length=50)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class IssuedKeyOut(ApiKeyOut):
    token: str = Field(description="The key itself. Shown once; store it now.")


class TenantWithKeyOut(BaseModel):
    tenant: TenantOut
    api_key: IssuedKeyOut
