"""API shapes for the catalogue. Inputs reject unknown fields; a bad GTIN or currency is a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retailos.catalog.gtin import check_gtin
from retailos.core.money import check_currency

Status = Literal["active", "archived"]
MAX_AMOUNT = 10**12  # minor units; far above any shelf price, far below BigInteger


def _gtin(value: str | None) -> str | None:
    return None if value is None else check_gtin(value)


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    amount: int = Field(ge=0, le=MAX_AMOUNT, description="Minor units: cents for USD")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value)


class VariantPriceIn(PriceIn):
    variant_id: str = Field(max_length=40)


class PriceBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices: list[VariantPriceIn] = Field(min_length=1, max_length=1000)


class PriceBatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class PriceAmountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=0, le=MAX_AMOUNT, description="Minor units: cents for USD")


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    title: str | None = Field(default=None, max_length=200)
    gtin: str | None = Field(default=None, description="GTIN-8, -12 (UPC), -13 (EAN) or -14")
    unit_weight_g: int | None = Field(
        default=None, gt=0, le=1_000_000,
        description="Gross weight of one unit; estimated from package_size when omitted",
    )
    package_size: str | None = Field(default=None, max_length=60, examples=["16 OZ"])
    prices: list[PriceIn] = Field(default_factory=list, max_length=30)

    _check_gtin = field_validator("gtin")(_gtin)

    @field_validator("prices")
    @classmethod
    def _one_price_per_currency(cls, prices: list[PriceIn]) -> list[PriceIn]:
        currencies = [p.currency for p in prices]
        if len(set(currencies)) != len(currencies):
            raise ValueError("give at most one price per currency")
        return prices


class VariantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    title: str | None = Field(default=None, max_length=200)
    gtin: str | None = None
    unit_weight_g: int | None = Field(default=None, gt=0, le=1_000_000)
    package_size: str | None = Field(default=None, max_length=60)

    _check_gtin = field_validator("gtin")(_gtin)


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    brand: str | None = Field(default=None, max_length=120)
    description: str | None = Field(default=None, max_length=20_000)
    category_id: str | None = Field(default=None, max_length=40)
    attributes: dict[str, Any] = Field(default_factory=dict)
    external_ref: str | None = Field(
        default=None, max_length=120, description="Your own id for the product; unique"
    )
    variants: list[VariantIn] = Field(default_factory=list, max_length=100)


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    brand: str | None = Field(default=None, max_length=120)
    description: str | None = Field(default=None, max_length=20_000)
    category_id: str | None = Field(default=None, max_length=40)
    attributes: dict[str, Any] | None = None


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(default=None, max_length=40)


class PriceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    currency: str
    amount: int


class VariantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    product_id: str
    sku: str
    title: str | None
    gtin: str | None
    unit_weight_g: int | None
    package_size: str | None
    status: Status
    prices: list[PriceOut]
    created_at: datetime
    updated_at: datetime


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    title: str
    brand: str | None
    description: str | None
    category_id: str | None
    status: Status
    attributes: dict[str, Any]
    external_ref: str | None
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    code: str
    name: str
    parent_id: str | None
    created_at: datetime
    updated_at: datetime
