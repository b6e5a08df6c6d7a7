"""Inventory over HTTP: locations, receipts, adjustments, stock, movements, availability."""

from __future__ import annotations

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.core.clock import Clock
from retailos.core.pagination import Page
from retailos.inventory import service
from retailos.inventory.models import Stock
from retailos.inventory.schemas import (
    AdjustmentIn,
    AvailabilityOut,
    LocationIn,
    LocationKind,
    LocationOut,
    MovementKind,
    MovementOut,
    ReceiptIn,
    SkuAvailability,
    StockLevelOut,
    StockOut,
    TransferIn,
    TransferOut,
)
from retailos.tenants.service import Principal

router = make_router("/v1/inventory", "inventory")

READ = scoped("inventory:read")
WRITE = scoped("inventory:write")
CURSOR = Query(default=None, description="next_cursor of the previous page")
LIMIT = Query(default=50, description="Page size, 1 to 200")
MAX_AVAILABILITY_SKUS = 200


def _stock_out(row: Stock) -> StockOut:
    return StockOut(
        id=row.id, sku_id=row.sku_id, location_id=row.location_id, on_hand=row.on_hand,
        reserved=row.reserved, allocated=row.allocated,
        available=row.on_hand - row.allocated - row.reserved, updated_at=row.updated_at,
    )


# --- locations --------------------------------------------------------------------------------


@router.post("/locations", status_code=201, response_model=LocationOut,
             summary="Create a location: warehouse, fulfilment centre, store or shelf")
def create_location(
    body: LocationIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> LocationOut:
    location = service.create_location(db, now, who.tenant_id, body.code, body.name, body.kind,
                                       body.parent_id)
    return LocationOut.model_validate(location)


@router.get("/locations", response_model=Page[LocationOut], summary="Locations in id order")
def list_locations(
    kind: LocationKind | None = None, cursor: str | None = CURSOR, limit: int = LIMIT,
    who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[LocationOut]:
    rows, next_cursor = service.list_locations(db, who.tenant_id, kind, cursor, limit)
    return Page(data=[LocationOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/locations/{location_id}", response_model=LocationOut)
def get_location(
    location_id: str, who: Principal = Depends(READ), db: Session = Depends(session)
) -> LocationOut:
    return LocationOut.model_validate(service.get_location(db, who.tenant_id, location_id))


# --- receiving and adjusting ------------------------------------------------------------------


@router.post("/receipts", status_code=201, response_model=StockLevelOut,
             summary="Receive units of a SKU at a location (on_hand rises)")
def receive(
    body: ReceiptIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> StockLevelOut:
    level = service.receive(db, now, who.tenant_id, body.location_id, body.sku_id,
                            body.quantity, ref=body.reference)
    return StockLevelOut.model_validate(level)


@router.post("/adjustments", status_code=201, response_model=StockLevelOut,
             summary="Correct on_hand with a reason code; never below allocated + reserved")
def adjust(
    body: AdjustmentIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> StockLevelOut:
    level = service.adjust(db, now, who.tenant_id, body.location_id, body.sku_id, body.delta,
                           body.reason, body.reference)
    return StockLevelOut.model_validate(level)


@router.post("/transfers", status_code=201, response_model=TransferOut,
             summary="Move available units of a SKU from one location to another")
def transfer(
    body: TransferIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> TransferOut:
    source, destination = service.transfer(db, now, who.tenant_id, body.sku_id,
                                           body.from_location_id, body.to_location_id,
                                           body.quantity, body.reference)
    return TransferOut(source=StockLevelOut.model_validate(source),
                       destination=StockLevelOut.model_validate(destination))


# --- reading ----------------------------------------------------------------------------------


@router.get("/stock", response_model=Page[StockOut],
            summary="Stock rows of the calling owner, by SKU and location")
def list_stock(
    sku_id: str | None = None, location_id: str | None = None, cursor: str | None = CURSOR,
    limit: int = LIMIT, who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[StockOut]:
    rows, next_cursor = service.list_stock(db, who.tenant_id, sku_id, location_id, cursor, limit)
    return Page(data=[_stock_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/movements", response_model=Page[MovementOut],
            summary="The append-only history of on_hand changes")
def list_movements(
    sku_id: str | None = None, location_id: str | None = None, kind: MovementKind | None = None,
    ref: str | None = None, cursor: str | None = CURSOR, limit: int = LIMIT,
    who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[MovementOut]:
    rows, next_cursor = service.list_movements(db, who.tenant_id, sku_id, location_id, kind,
                                               ref, cursor, limit)
    return Page(data=[MovementOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/availability", response_model=AvailabilityOut,
            summary="Available-to-promise per SKU, at one location or all of them")
def availability(
    sku_id: list[str] = Query(min_length=1, max_length=MAX_AVAILABILITY_SKUS,
                              description="Repeat for several SKUs"),
    location_id: str | None = None,
    who: Principal = Depends(READ), db: Session = Depends(session), now: Clock = Depends(clock),
) -> AvailabilityOut:
    if location_id is not None:
        service.get_location(db, who.tenant_id, location_id)
    found = service.available_to_promise(db, who.tenant_id, sku_id, location_id, clock=now)
    return AvailabilityOut(
        location_id=location_id,
        data=[SkuAvailability(sku_id=k, available=v) for k, v in found.items()],
    )
