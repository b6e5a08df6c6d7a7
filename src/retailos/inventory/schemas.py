"""API shapes for locations, stock, movements and availability."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LocationKind = Literal["warehouse", "fulfilment_centre", "store", "shelf"]
AdjustReason = Literal["damaged", "lost", "found", "count_correction", "expired", "other"]
MovementKind = Literal["receive", "adjust", "ship", "return", "transfer"]
SKU_ID = r"^sku_[0-9A-Z]{26}$"
LOCATION_ID = r"^loc_[0-9A-Z]{26}$"


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, examples=["WH-EAST"])
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    parent_id: str | None = Field(default=None, max_length=40)


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    code: str
    name: str
    kind: LocationKind
    parent_id: str | None
    created_at: datetime


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: str = Field(pattern=LOCATION_ID)
    sku_id: str = Field(pattern=SKU_ID)
    quantity: int = Field(gt=0, le=1_000_000_000)
    reference: str | None = Field(default=None, max_length=100,
                                  description="e.g. a purchase order or delivery note")


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: str = Field(pattern=LOCATION_ID)
    sku_id: str = Field(pattern=SKU_ID)
    delta: int = Field(ge=-1_000_000_000, le=1_000_000_000,
                       description="Change of on_hand, not zero: negative removes units")
    reason: AdjustReason = Field(description=(
        "damaged, lost, found, count_correction (a stock count differed), expired (perished "
        "or past its date) or other"))
    reference: str | None = Field(default=None, max_length=100)


class StockLevelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sku_id: str
    location_id: str
    on_hand: int = Field(description="Units physically at the location")
    reserved: int = Field(description="Held for checkouts in progress; these holds expire")
    allocated: int = Field(description="Promised to placed orders, not yet shipped")
    available: int = Field(description="on_hand - allocated - reserved, never negative")


class StockOut(StockLevelOut):
    id: str
    updated_at: datetime


class MovementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    sku_id: str
    location_id: str
    kind: MovementKind
    quantity: int = Field(description="Signed change of on_hand")
    reason: str
    ref: str | None
    created_at: datetime


class SkuAvailability(BaseModel):
    sku_id: str
    available: int


class AvailabilityOut(BaseModel):
    location_id: str | None = Field(description="The location asked about; null for all")
    data: list[SkuAvailability]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: str = Field(pattern=SKU_ID)
    from_location_id: str = Field(pattern=LOCATION_ID)
    to_location_id: str = Field(pattern=LOCATION_ID)
    quantity: int = Field(gt=0, le=1_000_000_000)
    reference: str | None = Field(default=None, max_length=100)


class TransferOut(BaseModel):
    source: StockLevelOut = Field(description="The stock left where the units came from")
    destination: StockLevelOut = Field(description="The stock where they went")
