"""Inventory use cases: the only code that writes the inventory tables.

Concurrency: every function that changes stock first locks the stock rows it will touch, in id
order (PostgreSQL `FOR NO KEY UPDATE`; on SQLite every transaction holds the write lock from
BEGIN IMMEDIATE), and only then reads hold lines and writes. Hold lines change only under the
lock of their stock row, so a read after the lock is current. The stock UPDATEs are guarded as
well, and a CHECK constraint keeps `on_hand - allocated - reserved` from going negative.
No function loops over rows issuing queries: each runs a fixed number of set-based statements.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from typing import cast as typing_cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    Result,
    Select,
    Update,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from retailos.catalog import service as catalog
from retailos.core.clock import Clock
from retailos.core.db import UTCDateTime, upsert_insert
from retailos.core.errors import Conflict, InvalidInput, NotFound, OutOfStock
from retailos.core.ids import has_prefix, new_id, new_ids
from retailos.core.outbox import publish
from retailos.core.pagination import paginate
from retailos.inventory import events
from retailos.inventory.models import (
    ADJUST_REASONS,
    LOCATION_KINDS,
    MOVEMENT_KINDS,
    Hold,
    HoldLine,
    Location,
    Movement,
    Stock,
)

_CHUNK = 10_000  # rows per statement in bulk loads


@dataclass(frozen=True)
class StockLevel:
    sku_id: str
    location_id: str
    on_hand: int
    reserved: int
    allocated: int
    available: int


def _level(row: Any) -> StockLevel:
    return StockLevel(
        sku_id=row.sku_id, location_id=row.location_id, on_hand=row.on_hand,
        reserved=row.reserved, allocated=row.allocated,
        available=row.on_hand - row.allocated - row.reserved,
    )


# --- locations --------------------------------------------------------------------------------


def create_location(
    session: Session,
    clock: Clock,
    tenant_id: str,
    code: str,
    name: str,
    kind: str,
    parent_id: str | None = None,
) -> Location:
    if kind not in LOCATION_KINDS:
        raise InvalidInput(f"location kind must be one of {', '.join(LOCATION_KINDS)}",
                           field="kind")
    code, name = code.strip(), name.strip()
    if not code or len(code) > 64:
        raise InvalidInput("location code must be 1 to 64 characters", field="code")
    if not name:
        raise InvalidInput("location name must not be empty", field="name")
    if parent_id is not None:
        get_location(session, tenant_id, parent_id)
    location = Location(
        id=new_id("loc"), tenant_id=tenant_id, code=code, name=name, kind=kind,
        parent_id=parent_id, created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(location)
    except IntegrityError:
        raise Conflict(f"a location with code {code!r} exists", code=code) from None
    return location


def get_location(session: Session, tenant_id: str, location_id: str) -> Location:
    location = session.get(Location, location_id)
    if location is None or location.tenant_id != tenant_id:
        raise NotFound(f"no location {location_id}", location_id=location_id)
    return location


def find_location(session: Session, tenant_id: str, code: str) -> Location | None:
    """The tenant's location with this code, or None."""
    return session.scalars(select(Location).where(
        Location.tenant_id == tenant_id, Location.code == code)).first()


def list_locations(
    session: Session,
    tenant_id: str,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Location], str | None]:
    stmt = select(Location).where(Location.tenant_id == tenant_id)
    if kind is not None:
        stmt = stmt.where(Location.kind == kind)
    rows, next_cursor = paginate(session, stmt, Location.id, cursor, limit)
    return list(rows), next_cursor


# --- receiving and adjusting ------------------------------------------------------------------


def receive(
    session: Session,
    clock: Clock,
    tenant_id: str,
    location_id: str,
    sku_id: str,
    qty: int,
    reason: str = "received",
    ref: str | None = None,
) -> StockLevel:
    """Units arrive at a location: on_hand += qty, with a 'receive' movement."""
    get_location(session, tenant_id, location_id)
    _check_positive(qty, "quantity")
    _check_reason(reason)
    _check_ref(ref)
    _check_known(session, tenant_id, [sku_id])
    rows = _add_on_hand(session, clock.now(), tenant_id, location_id, {sku_id: qty},
                        "receive", reason, ref)
    publish(session, clock, tenant_id, events.STOCK_RECEIVED,
            events.stock_payload(sku_id, location_id, qty, reason=reason, ref=ref))
    return _level(rows[0])


def receive_many(
    session: Session,
    clock: Clock,
    tenant_id: str,
    location_id: str,
    quantities: Mapping[str, int],
    reason: str = "received",
) -> int:
    """Receive many SKUs at one location in bulk; returns the number of SKUs received."""
    get_location(session, tenant_id, location_id)
    _check_reason(reason)
    for sku_id, qty in quantities.items():
        _check_positive(qty, f"quantities.{sku_id}")
    _check_known(session, tenant_id, list(quantities))
    now = clock.now()
    items = list(quantities.items())
    if not items:
        return 0
    for start in range(0, len(items), _CHUNK):
        _bulk_add_on_hand(session, now, tenant_id, location_id, items[start:start + _CHUNK],
                          "receive", reason)
    publish(session, clock, tenant_id, events.STOCK_BULK_RECEIVED, {
        "location_id": location_id, "skus": len(items),
        "quantity": sum(quantities.values()), "reason": reason})
    return len(items)


def adjust(
    session: Session,
    clock: Clock,
    tenant_id: str,
    location_id: str,
    sku_id: str,
    delta: int,
    reason: str,
    ref: str | None = None,
) -> StockLevel:
    """Correct on_hand by `delta` for a reason code; never below what is allocated or reserved."""
    if reason not in ADJUST_REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(ADJUST_REASONS)}", field="reason")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput("delta must be a non-zero whole number", field="delta")
    _check_ref(ref)
    get_location(session, tenant_id, location_id)
    _check_known(session, tenant_id, [sku_id])
    now = clock.now()
    announce = events.stock_payload(sku_id, location_id, delta, reason=reason, ref=ref)
    if delta > 0:
        added = _add_on_hand(session, now, tenant_id, location_id, {sku_id: delta}, "adjust",
                             reason, ref)
        publish(session, clock, tenant_id, events.STOCK_ADJUSTED, announce)
        return _level(added[0])
    row = session.execute(
        select(Stock.id, Stock.on_hand, Stock.allocated, Stock.reserved,
               _expired_reserved(Stock, now).label("expired"))
        .where(Stock.tenant_id == tenant_id, Stock.sku_id == sku_id,
               Stock.location_id == location_id)
        .with_for_update(of=Stock, key_share=True)
    ).first()
    if row is None:
        raise NotFound(f"no stock of {sku_id} at {location_id}", sku_id=sku_id,
                       location_id=location_id)
    if row.expired:
        _release_expired(session, now, [row.id])
    changed = session.execute(
        update(Stock)
        .where(Stock.id == row.id, Stock.on_hand + delta >= Stock.allocated + Stock.reserved)
        .values(on_hand=Stock.on_hand + delta, updated_at=now)
        .returning(Stock.id, Stock.sku_id, Stock.location_id, Stock.on_hand, Stock.reserved,
                   Stock.allocated)
    ).first()
    if changed is None:
        held = row.allocated + row.reserved - row.expired
        raise Conflict(
            f"cannot remove {-delta} of {sku_id}: {row.on_hand} on hand, {held} allocated or "
            "reserved", sku_id=sku_id, location_id=location_id, on_hand=row.on_hand,
            allocated=row.allocated, reserved=row.reserved - row.expired,
        )
    _record_movements(session, now, tenant_id, [(row.id, sku_id, location_id, delta)],
                      "adjust", reason, ref)
    publish(session, clock, tenant_id, events.STOCK_ADJUSTED, announce)
    return _level(changed)


def restock(
    session: Session,
    clock: Clock,
    tenant_id: str,
    sku_id: str,
    qty: int,
    ref: str,
    location_id: str | None = None,
) -> None:
    """A return: on_hand += qty at the location the SKU shipped from under `ref` (else its latest
    shipment), or at `location_id` when given; movement 'return'."""
    _check_positive(qty, "quantity")
    _check_skus([sku_id])
    _check_ref(ref)
    if location_id is None:
        location_id = session.scalar(
            select(Movement.location_id)
            .where(Movement.tenant_id == tenant_id, Movement.sku_id == sku_id,
                   Movement.kind == "ship")
            .order_by(case((Movement.ref == ref, 0), else_=1), Movement.id.desc())
            .limit(1)
        )
        if location_id is None:
            raise InvalidInput(f"{sku_id} was never shipped; say where to restock it",
                               field="location_id", sku_id=sku_id)
    else:
        get_location(session, tenant_id, location_id)
    _add_on_hand(session, clock.now(), tenant_id, location_id, {sku_id: qty}, "return",
                 "returned", ref)
    publish(session, clock, tenant_id, events.STOCK_RETURNED,
            events.stock_payload(sku_id, location_id, qty, ref=ref))


def transfer(
    session: Session,
    clock: Clock,
    tenant_id: str,
    sku_id: str,
    from_location_id: str,
    to_location_id: str,
    qty: int,
    ref: str | None = None,
) -> tuple[StockLevel, StockLevel]:
    """Move available units between two of the owner's locations: two 'transfer' movements."""
    _check_positive(qty, "quantity")
    _check_skus([sku_id])
    _check_ref(ref)
    if from_location_id == to_location_id:
        raise InvalidInput("a transfer needs two different locations", field="to_location_id")
    get_location(session, tenant_id, from_location_id)
    get_location(session, tenant_id, to_location_id)
    _check_known(session, tenant_id, [sku_id])
    now = clock.now()
    # Both rows are locked in id order (the destination's created first if need be), so two
    # transfers in opposite directions queue instead of deadlocking.
    session.execute(upsert_insert(session, Stock).values(
        id=new_id("stk"), tenant_id=tenant_id, sku_id=sku_id, location_id=to_location_id,
        on_hand=0, reserved=0, allocated=0, updated_at=now,
    ).on_conflict_do_nothing(index_elements=[Stock.tenant_id, Stock.sku_id, Stock.location_id]))
    both = session.execute(
        select(Stock.id, Stock.location_id, Stock.on_hand, Stock.allocated, Stock.reserved,
               _expired_reserved(Stock, now).label("expired"))
        .where(Stock.tenant_id == tenant_id, Stock.sku_id == sku_id,
               Stock.location_id.in_((from_location_id, to_location_id)))
        .order_by(Stock.id)
        .with_for_update(of=Stock, key_share=True)
    ).all()
    source = next((r for r in both if r.location_id == from_location_id), None)
    free = 0 if source is None else source.on_hand - source.allocated - source.reserved
    if source is not None and source.expired and free < qty:
        _release_expired(session, now, [source.id])
        free += source.expired
    if source is None or free < qty:
        raise _out_of_stock(sku_id, qty, max(free, 0))
    left = session.execute(
        update(Stock)
        .where(Stock.id == source.id,
               Stock.on_hand - Stock.allocated - Stock.reserved >= qty)
        .values(on_hand=Stock.on_hand - qty, updated_at=now)
        .returning(Stock.id, Stock.sku_id, Stock.location_id, Stock.on_hand, Stock.reserved,
                   Stock.allocated)
    ).one()
    _record_movements(session, now, tenant_id, [(source.id, sku_id, from_location_id, -qty)],
                      "transfer", "transferred", ref)
    arrived = _add_on_hand(session, now, tenant_id, to_location_id, {sku_id: qty}, "transfer",
                           "transferred", ref)
    publish(session, clock, tenant_id, events.STOCK_TRANSFERRED, events.stock_payload(
        sku_id, from_location_id, qty, to_location_id=to_location_id, ref=ref))
    return _level(left), _level(arrived[0])


# --- reservations and allocations -------------------------------------------------------------


def reserve(
    session: Session,
    clock: Clock,
    tenant_id: str,
    lines: Sequence[tuple[str, int]],
    ref: str,
    ttl: timedelta,
) -> str:
    """Hold stock for `ref` until now + ttl, all lines or none; returns the hold id.

    Four statements whatever the number of lines: lock the candidate rows, one guarded UPDATE of
    all of them, insert the hold, insert its lines (a fifth when expired holds of others are
    given back on the way). A shortfall raises OutOfStock before anything is written.
    """
    wanted = _summed(lines)
    if not wanted:
        raise InvalidInput("a reservation needs at least one line", field="lines")
    if ttl <= timedelta(0):
        raise InvalidInput("ttl must be positive", field="ttl")
    if not ref:
        raise InvalidInput("ref must not be empty", field="ref")
    _check_ref(ref)
    now = clock.now()
    rows = session.execute(
        _LOCK_FOR_RESERVE, {"tenant": tenant_id, "skus": list(wanted), "now": now}).all()
    by_sku: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_sku[row.sku_id].append(row)

    def free(row: Any) -> int:
        return int(row.on_hand - row.allocated - row.reserved + row.expired)

    take: dict[str, int] = {}  # stock id -> units
    picked: list[tuple[Any, int]] = []
    for sku_id, qty in wanted.items():
        candidates = sorted(by_sku.get(sku_id, []), key=lambda r: (-free(r), r.id))
        total = sum(max(free(r), 0) for r in candidates)
        if total < qty:
            raise _out_of_stock(sku_id, qty, total)
        remaining = qty
        for row in candidates:
            units = min(free(row), remaining)
            if units <= 0:
                break
            take[row.id] = units
            picked.append((row, units))
            remaining -= units
    give_back_expired = any(row.expired for row, _ in picked)

    # One UPDATE run for every row at once (compiled once, one round trip): a row gains its
    # units only if they are still free. Under our locks they are; the count is a guard.
    result = session.connection().execute(
        _RESERVE_RECLAIMING if give_back_expired else _RESERVE,
        [{"stock_id": stock_id, "units": units, "now": now} for stock_id, units in take.items()],
    )
    if _rowcount(result) != len(take):
        # Cannot happen under the locks; the error rolls back what the statement wrote.
        sku_id = next(iter(wanted))
        raise _out_of_stock(sku_id, wanted[sku_id], 0)
    if give_back_expired:
        session.execute(
            update(HoldLine)
            .where(HoldLine.stock_id.in_(take), HoldLine.status == "reserved",
                   HoldLine.expires_at <= now)
            .values(status="expired", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    hold_id = new_id("hld")
    expires_at = now + ttl
    session.connection().execute(insert(Hold), {
        "id": hold_id, "tenant_id": tenant_id, "ref": ref, "status": "active",
        "expires_at": expires_at, "created_at": now,
    })
    session.connection().execute(insert(HoldLine), [
        {"id": new_id("hln"), "tenant_id": tenant_id, "hold_id": hold_id, "stock_id": row.id,
         "sku_id": row.sku_id, "location_id": row.location_id, "quantity": units,
         "status": "reserved", "expires_at": expires_at, "order_id": None, "updated_at": now}
        for row, units in picked
    ])
    return hold_id


def allocate(
    session: Session,
    clock: Clock,
    tenant_id: str,
    hold_id: str,
    order_refs: Mapping[str, str],
) -> None:
    """Turn a live hold into allocations for placed orders; `order_refs` maps sku_id to order id.

    Conflict if the hold expired, was released or was already allocated. Four statements: lock
    the hold's stock rows while reading its lines, claim the hold, move the units, mark the lines.
    """
    now = clock.now()
    # The lines are read in the statement that takes the locks. If we waited, they may predate
    # a change made meanwhile, but every such change (release, expiry, another allocate) also
    # changes the hold itself, which the guarded claim below then refuses.
    lines = session.execute(_LOCK_FOR_ALLOCATE, {"tenant": tenant_id, "hold": hold_id}).all()
    if any(not order_id or len(order_id) > 40 for order_id in order_refs.values()):
        raise InvalidInput("order ids must be 1 to 40 characters", field="order_refs")
    missing = sorted({line.sku_id for line in lines} - set(order_refs))
    if missing:
        raise InvalidInput(f"no order given for {', '.join(missing)}", field="order_refs",
                           sku_ids=missing)
    claimed = lines and session.execute(
        _CLAIM_HOLD, {"hold": hold_id, "tenant": tenant_id, "now": now}).first()
    if not claimed:
        hold = _hold(session, tenant_id, hold_id)
        status = "expired" if hold.status == "active" else hold.status
        raise Conflict(f"hold {hold_id} is {status}", hold_id=hold_id, current_status=status)
    units = _per_stock((line.stock_id, line.quantity) for line in lines)
    held_skus = {line.sku_id for line in lines}
    connection = session.connection()
    connection.execute(_ALLOCATE_STOCK, [
        {"stock_id": stock_id, "units": n, "now": now} for stock_id, n in units.items()])
    connection.execute(_ALLOCATE_LINES, [
        {"hold": hold_id, "sku": sku_id, "order": order_id, "now": now}
        for sku_id, order_id in order_refs.items() if sku_id in held_skus])


def release(session: Session, clock: Clock, tenant_id: str, hold_id: str) -> None:
    """Give back a hold's reserved units (compensation). Releasing twice, a hold that was
    allocated or has expired, or one that never committed (rolled back with the transaction that
    took it) changes nothing."""
    _lock_stock(session, select(HoldLine.stock_id).where(
        HoldLine.tenant_id == tenant_id, HoldLine.hold_id == hold_id))
    status = session.scalar(
        select(Hold.status).where(Hold.id == hold_id, Hold.tenant_id == tenant_id))
    if status == "active":
        _give_back(session, clock.now(), [hold_id], "released")


def expire_holds(session: Session, clock: Clock, limit: int = 1000) -> int:
    """Release up to `limit` holds past their expiry, of all tenants; returns how many."""
    now = clock.now()
    due = list(session.scalars(
        select(Hold.id).where(Hold.status == "active", Hold.expires_at <= now)
        .order_by(Hold.id).limit(limit)
    ))
    if not due:
        return 0
    _lock_stock(session, select(HoldLine.stock_id).where(HoldLine.hold_id.in_(due)))
    # Another worker or a release may have taken some while we waited for the locks.
    due = list(session.scalars(select(Hold.id).where(Hold.id.in_(due), Hold.status == "active")))
    if due:
        _give_back(session, now, due, "expired")
    return len(due)


def deallocate(
    session: Session,
    clock: Clock,
    tenant_id: str,
    order_id: str,
    lines: Sequence[tuple[str, int]] | None = None,
) -> None:
    """Cancel allocations of an order before shipment: all of them, or the given quantities."""
    now = clock.now()
    _lock_stock(session, select(HoldLine.stock_id).where(
        HoldLine.tenant_id == tenant_id, HoldLine.order_id == order_id,
        HoldLine.status == "allocated"))
    allocated = _allocation_lines(session, tenant_id, order_id)
    cut: dict[str, int] = {}
    if lines is None:
        cut = {line.id: line.quantity for line in allocated}
    else:
        for sku_id, qty in _summed(lines).items():
            of_sku = [line for line in allocated if line.sku_id == sku_id]
            total = sum(line.quantity for line in of_sku)
            if total < qty:
                raise Conflict(
                    f"order {order_id} has {total} of {sku_id} allocated, not {qty}",
                    order_id=order_id, sku_id=sku_id, allocated=total, requested=qty,
                )
            for line in of_sku:
                if qty == 0:
                    break
                cut[line.id] = min(line.quantity, qty)
                qty -= cut[line.id]
    if not cut:
        return
    by_id = {line.id: line for line in allocated}
    whole = [i for i, q in cut.items() if q == by_id[i].quantity]
    part = {i: q for i, q in cut.items() if q < by_id[i].quantity}
    if whole:
        session.execute(
            update(HoldLine).where(HoldLine.id.in_(whole))
            .values(status="deallocated", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if part:
        session.execute(
            update(HoldLine).where(HoldLine.id.in_(part))
            .values(quantity=HoldLine.quantity - case(part, value=HoldLine.id), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(insert(HoldLine), [
            {"id": new_id("hln"), "tenant_id": tenant_id, "hold_id": by_id[i].hold_id,
             "stock_id": by_id[i].stock_id, "sku_id": by_id[i].sku_id,
             "location_id": by_id[i].location_id, "quantity": q, "status": "deallocated",
             "expires_at": by_id[i].expires_at, "order_id": order_id, "updated_at": now}
            for i, q in part.items()
        ])
    units = _per_stock((by_id[i].stock_id, q) for i, q in cut.items())
    session.execute(
        update(Stock).where(Stock.id.in_(units))
        .values(allocated=Stock.allocated - case(units, value=Stock.id), updated_at=now)
        .execution_options(synchronize_session=False)
    )


def ship(session: Session, clock: Clock, tenant_id: str, order_id: str) -> None:
    """The order's allocated units leave: on_hand and allocated fall, movements 'ship'.
    Shipping an order again changes nothing; an order with nothing allocated is a Conflict."""
    now = clock.now()
    _lock_stock(session, select(HoldLine.stock_id).where(
        HoldLine.tenant_id == tenant_id, HoldLine.order_id == order_id,
        HoldLine.status == "allocated"))
    allocated = _allocation_lines(session, tenant_id, order_id)
    if not allocated:
        shipped = session.scalar(select(exists().where(
            HoldLine.tenant_id == tenant_id, HoldLine.order_id == order_id,
            HoldLine.status == "shipped")))
        if shipped:
            return
        raise Conflict(f"nothing is allocated to order {order_id}", order_id=order_id)
    units = _per_stock((line.stock_id, line.quantity) for line in allocated)
    session.execute(
        update(Stock).where(Stock.id.in_(units))
        .values(on_hand=Stock.on_hand - case(units, value=Stock.id),
                allocated=Stock.allocated - case(units, value=Stock.id), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(HoldLine).where(HoldLine.id.in_([line.id for line in allocated]))
        .values(status="shipped", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    where = {line.stock_id: (line.sku_id, line.location_id) for line in allocated}
    _record_movements(session, now, tenant_id,
                      [(sid, *where[sid], -q) for sid, q in units.items()],
                      "ship", "shipped", order_id)


# --- reading ----------------------------------------------------------------------------------


def available_to_promise(
    session: Session,
    tenant_id: str,
    sku_ids: Sequence[str],
    location_id: str | None = None,
    *,
    clock: Clock | None = None,
) -> dict[str, int]:
    """Units that can still be promised per SKU, at one location or all of the owner's. With a
    clock, holds past their expiry (not yet released by `expire_holds`) do not count."""
    wanted = list(dict.fromkeys(sku_ids))
    result = dict.fromkeys(wanted, 0)
    if not wanted:
        return result
    free: ColumnElement[int] = Stock.on_hand - Stock.allocated - Stock.reserved
    if clock is not None:
        free = free + _expired_reserved(Stock, clock.now())
    stmt = select(Stock.sku_id, free).where(Stock.tenant_id == tenant_id,
                                            Stock.sku_id.in_(wanted))
    if location_id is not None:
        stmt = stmt.where(Stock.location_id == location_id)
    for sku_id, units in session.execute(stmt):
        result[sku_id] += max(int(units), 0)
    return result


def stock_level(session: Session, tenant_id: str, location_id: str, sku_id: str) -> StockLevel:
    row = session.execute(
        select(Stock).where(Stock.tenant_id == tenant_id, Stock.sku_id == sku_id,
                            Stock.location_id == location_id)
    ).scalar_one_or_none()
    if row is None:
        return StockLevel(sku_id, location_id, 0, 0, 0, 0)
    return _level(row)


def list_stock(
    session: Session,
    tenant_id: str,
    sku_id: str | None = None,
    location_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Stock], str | None]:
    stmt = select(Stock).where(Stock.tenant_id == tenant_id)
    if sku_id is not None:
        stmt = stmt.where(Stock.sku_id == sku_id)
    if location_id is not None:
        stmt = stmt.where(Stock.location_id == location_id)
    rows, next_cursor = paginate(session, stmt, Stock.id, cursor, limit)
    return list(rows), next_cursor


def list_movements(
    session: Session,
    tenant_id: str,
    sku_id: str | None = None,
    location_id: str | None = None,
    kind: str | None = None,
    ref: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Movement], str | None]:
    if kind is not None and kind not in MOVEMENT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(MOVEMENT_KINDS)}", field="kind")
    stmt = select(Movement).where(Movement.tenant_id == tenant_id)
    if sku_id is not None:
        stmt = stmt.where(Movement.sku_id == sku_id)
    if location_id is not None:
        stmt = stmt.where(Movement.location_id == location_id)
    if kind is not None:
        stmt = stmt.where(Movement.kind == kind)
    if ref is not None:
        stmt = stmt.where(Movement.ref == ref)
    rows, next_cursor = paginate(session, stmt, Movement.id, cursor, limit)
    return list(rows), next_cursor


def get_hold(session: Session, tenant_id: str, hold_id: str) -> Hold:
    return _hold(session, tenant_id, hold_id)


def audit(session: Session, tenant_id: str | None = None) -> list[str]:
    """Discrepancies between stock rows and what they are recomputed from: on_hand against the
    sum of movements, reserved and allocated against open hold lines; [] when all is well."""
    moved = (
        select(Movement.stock_id, func.sum(Movement.quantity).label("units"))
        .group_by(Movement.stock_id).subquery()
    )
    held = (
        select(
            HoldLine.stock_id,
            func.sum(case((HoldLine.status == "reserved", HoldLine.quantity), else_=0))
            .label("reserved"),
            func.sum(case((HoldLine.status == "allocated", HoldLine.quantity), else_=0))
            .label("allocated"),
        )
        .where(HoldLine.status.in_(("reserved", "allocated")))
        .group_by(HoldLine.stock_id).subquery()
    )
    # SUM of a bigint is a numeric on PostgreSQL: cast back so Python sees ints.
    moved_units = cast(func.coalesce(moved.c.units, 0), BigInteger)
    held_reserved = cast(func.coalesce(held.c.reserved, 0), BigInteger)
    held_allocated = cast(func.coalesce(held.c.allocated, 0), BigInteger)
    stmt = (
        select(Stock.id, Stock.sku_id, Stock.location_id, Stock.on_hand, Stock.reserved,
               Stock.allocated, moved_units.label("moved"), held_reserved.label("held_r"),
               held_allocated.label("held_a"))
        .outerjoin(moved, moved.c.stock_id == Stock.id)
        .outerjoin(held, held.c.stock_id == Stock.id)
        .where(or_(
            Stock.on_hand != moved_units, Stock.reserved != held_reserved,
            Stock.allocated != held_allocated, Stock.on_hand < 0, Stock.reserved < 0,
            Stock.allocated < 0, Stock.on_hand - Stock.allocated - Stock.reserved < 0,
        ))
        .order_by(Stock.id)
    )
    if tenant_id is not None:
        stmt = stmt.where(Stock.tenant_id == tenant_id)
    found: list[str] = []
    for r in session.execute(stmt):
        where = f"{r.id} ({r.sku_id} at {r.location_id})"
        if r.on_hand != r.moved:
            found.append(f"{where}: on_hand {r.on_hand} but movements sum to {r.moved}")
        if r.reserved != r.held_r:
            found.append(f"{where}: reserved {r.reserved} but open holds total {r.held_r}")
        if r.allocated != r.held_a:
            found.append(f"{where}: allocated {r.allocated} but allocations total {r.held_a}")
        if min(r.on_hand, r.reserved, r.allocated, r.on_hand - r.allocated - r.reserved) < 0:
            found.append(f"{where}: negative stock (on_hand {r.on_hand}, reserved "
                         f"{r.reserved}, allocated {r.allocated})")
    return found


# --- helpers ----------------------------------------------------------------------------------


def _check_positive(qty: int, field: str) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise InvalidInput(f"{field} must be a positive whole number", field=field)


def _check_ref(ref: str | None) -> None:
    if ref is not None and len(ref) > 100:
        raise InvalidInput("ref must be at most 100 characters", field="ref")


def _check_reason(reason: str) -> None:
    if not reason or len(reason) > 40:
        raise InvalidInput("reason must be 1 to 40 characters", field="reason")


def _check_skus(sku_ids: Iterable[str]) -> None:
    bad = [s for s in sku_ids if not isinstance(s, str) or not has_prefix(s, "sku")]
    if bad:
        raise InvalidInput(f"not a SKU id: {bad[0]!r}", field="sku_id", sku_id=str(bad[0]))


def _check_known(session: Session, tenant_id: str, sku_ids: Sequence[str]) -> None:
    """Stock is kept only for the owner's catalogue variants (any state, priced or not)."""
    _check_skus(sku_ids)
    unknown = set(sku_ids) - catalog.known_variant_ids(session, tenant_id, sku_ids)
    if unknown:
        first = min(unknown)
        raise NotFound(f"no variant {first} in the owner's catalogue", sku_id=first,
                       unknown=len(unknown))


def _summed(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Quantities per SKU, duplicates summed, each validated."""
    total: dict[str, int] = defaultdict(int)
    for sku_id, qty in lines:
        _check_positive(qty, "quantity")
        total[sku_id] += qty
    _check_skus(total)
    return dict(total)


def _out_of_stock(sku_id: str, requested: int, available: int) -> OutOfStock:
    return OutOfStock(
        f"{sku_id}: {requested} requested, {available} available",
        sku_id=sku_id, requested=requested, available=available,
    )


def _per_stock(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    units: dict[str, int] = defaultdict(int)
    for stock_id, qty in pairs:
        units[stock_id] += qty
    return dict(units)


def _rowcount(result: Result[Any]) -> int:
    return typing_cast(CursorResult[Any], result).rowcount


def _expired_reserved(stock: Any, now: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    """Units of a stock row still counted as reserved by holds that expired at `now`."""
    return (
        select(cast(func.coalesce(func.sum(HoldLine.quantity), 0), BigInteger))
        .where(HoldLine.stock_id == stock.id, HoldLine.status == "reserved",
               HoldLine.expires_at <= now)
        .correlate(stock)
        .scalar_subquery()
    )


def _reserve_statement(reclaiming: bool) -> Update:
    """Reserve :units of stock row :stock_id if they are free at :now; `reclaiming` also gives
    back the units of the row's expired holds. Run once per row by one executemany."""
    free: ColumnElement[int] = Stock.on_hand - Stock.allocated - Stock.reserved
    reserved: ColumnElement[int] = Stock.reserved + bindparam("units")
    if reclaiming:
        expired = _expired_reserved(Stock, bindparam("now", type_=UTCDateTime()))
        free, reserved = free + expired, reserved - expired
    return (update(Stock)
            .where(Stock.id == bindparam("stock_id"), free >= bindparam("units"))
            .values(reserved=reserved, updated_at=bindparam("now")))


_RESERVE, _RESERVE_RECLAIMING = _reserve_statement(False), _reserve_statement(True)
# The statements of every checkout are built once, here, with bound parameters: building a
# select() or update() and its cache key again on each request costs more CPU than running it.
_LOCK_FOR_RESERVE = (
    select(Stock.id, Stock.sku_id, Stock.location_id, Stock.on_hand, Stock.allocated,
           Stock.reserved,
           _expired_reserved(Stock, bindparam("now", type_=UTCDateTime())).label("expired"))
    .where(Stock.tenant_id == bindparam("tenant"),
           Stock.sku_id.in_(bindparam("skus", expanding=True)))
    .order_by(Stock.id)
    .with_for_update(of=Stock, key_share=True)
)
_LOCK_FOR_ALLOCATE = (
    select(HoldLine.stock_id, HoldLine.sku_id, HoldLine.quantity)
    .join(Stock, Stock.id == HoldLine.stock_id)
    .where(HoldLine.tenant_id == bindparam("tenant"), HoldLine.hold_id == bindparam("hold"),
           HoldLine.status == "reserved")
    .order_by(Stock.id)
    .with_for_update(of=Stock, key_share=True)
)
_CLAIM_HOLD = (
    update(Hold)
    .where(Hold.id == bindparam("hold"), Hold.tenant_id == bindparam("tenant"),
           Hold.status == "active", Hold.expires_at > bindparam("now", type_=UTCDateTime()))
    .values(status="allocated")
    .returning(Hold.id)
    .execution_options(synchronize_session=False)
)
_ALLOCATE_STOCK = (
    update(Stock).where(Stock.id == bindparam("stock_id"))
    .values(reserved=Stock.reserved - bindparam("units"),
            allocated=Stock.allocated + bindparam("units"), updated_at=bindparam("now"))
)
_ALLOCATE_LINES = (
    update(HoldLine)
    .where(HoldLine.hold_id == bindparam("hold"), HoldLine.sku_id == bindparam("sku"),
           HoldLine.status == "reserved")
    .values(status="allocated", order_id=bindparam("order"), updated_at=bindparam("now"))
)


def _lock_stock(session: Session, stock_ids: Select[Any]) -> None:
    """Lock the stock rows in `stock_ids`, in id order, so that lockers never deadlock."""
    session.execute(
        select(Stock.id).where(Stock.id.in_(stock_ids)).order_by(Stock.id)
        .with_for_update(key_share=True)
    )


def _release_expired(session: Session, now: datetime, stock_ids: Sequence[str]) -> None:
    """Give back units of expired holds on these (locked) stock rows."""
    session.execute(
        update(Stock).where(Stock.id.in_(stock_ids))
        .values(reserved=Stock.reserved - _expired_reserved(Stock, now), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(HoldLine)
        .where(HoldLine.stock_id.in_(stock_ids), HoldLine.status == "reserved",
               HoldLine.expires_at <= now)
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _give_back(session: Session, now: datetime, hold_ids: Sequence[str], status: str) -> None:
    """Return the reserved units of these holds (their stock rows locked) and close them."""
    units: dict[str, int] = {
        stock_id: int(qty) for stock_id, qty in session.execute(
            select(HoldLine.stock_id, func.sum(HoldLine.quantity))
            .where(HoldLine.hold_id.in_(hold_ids), HoldLine.status == "reserved")
            .group_by(HoldLine.stock_id)
        )
    }
    if units:
        session.execute(
            update(Stock).where(Stock.id.in_(units))
            .values(reserved=Stock.reserved - case(units, value=Stock.id), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(HoldLine)
            .where(HoldLine.hold_id.in_(hold_ids), HoldLine.status == "reserved")
            .values(status=status, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Hold).where(Hold.id.in_(hold_ids), Hold.status == "active")
        .values(status=status)
        .execution_options(synchronize_session=False)
    )


def _hold(session: Session, tenant_id: str, hold_id: str) -> Any:
    hold = session.execute(
        select(Hold.id, Hold.status, Hold.expires_at)
        .where(Hold.id == hold_id, Hold.tenant_id == tenant_id)
    ).first()
    if hold is None:
        raise NotFound(f"no hold {hold_id}", hold_id=hold_id)
    return hold


def _allocation_lines(session: Session, tenant_id: str, order_id: str) -> list[Any]:
    return list(session.execute(
        select(HoldLine.id, HoldLine.hold_id, HoldLine.stock_id, HoldLine.sku_id,
               HoldLine.location_id, HoldLine.quantity, HoldLine.expires_at)
        .where(HoldLine.tenant_id == tenant_id, HoldLine.order_id == order_id,
               HoldLine.status == "allocated")
        .order_by(HoldLine.id)
    ).all())


def _add_on_hand(
    session: Session,
    now: datetime,
    tenant_id: str,
    location_id: str,
    quantities: Mapping[str, int],
    kind: str,
    reason: str,
    ref: str | None,
) -> list[Any]:
    """on_hand += qty per SKU at a location (creating stock rows as needed) in one upsert, plus
    one movement per SKU. Returns the stock rows after the change."""
    upsert = upsert_insert(session, Stock)
    stmt = upsert.on_conflict_do_update(
        index_elements=[Stock.tenant_id, Stock.sku_id, Stock.location_id],
        set_={"on_hand": Stock.on_hand + upsert.excluded.on_hand, "updated_at": now},
    ).returning(Stock.id, Stock.sku_id, Stock.location_id, Stock.on_hand, Stock.reserved,
                Stock.allocated)
    params = [
        {"id": new_id("stk"), "tenant_id": tenant_id, "sku_id": sku_id,
         "location_id": location_id, "on_hand": qty, "reserved": 0, "allocated": 0,
         "updated_at": now}
        for sku_id, qty in quantities.items()
    ]
    if len(params) == 1:
        rows = list(session.execute(stmt.values(params[0])).all())
    else:
        rows = list(session.execute(stmt, params).all())
    _record_movements(
        session, now, tenant_id,
        [(row.id, row.sku_id, location_id, quantities[row.sku_id]) for row in rows],
        kind, reason, ref,
    )
    return rows


# Bulk loads pass each chunk as one array (PostgreSQL) or one JSON document (SQLite) and let the
# database unpack it: two statements per chunk instead of one round trip per row.
_BULK_SQL = {
    "postgresql": (
        "INSERT INTO inventory_stock (id, tenant_id, sku_id, location_id, on_hand, reserved, "
        "allocated, updated_at) SELECT u.id, :tenant_id, u.sku_id, :location_id, u.qty, 0, 0, :now "
        "FROM unnest(CAST(:ids AS text[]), CAST(:sku_ids AS text[]), CAST(:qtys AS bigint[])) "
        "AS u(id, sku_id, qty) ON CONFLICT (tenant_id, sku_id, location_id) DO UPDATE SET "
        "on_hand = inventory_stock.on_hand + excluded.on_hand, updated_at = excluded.updated_at "
        "RETURNING id, sku_id",
        "INSERT INTO inventory_movements (id, tenant_id, stock_id, sku_id, location_id, kind, "
        "quantity, reason, ref, created_at) SELECT u.id, :tenant_id, u.stock_id, u.sku_id, "
        ":location_id, :kind, u.qty, :reason, NULL, :now FROM unnest(CAST(:ids AS text[]), "
        "CAST(:stock_ids AS text[]), CAST(:sku_ids AS text[]), CAST(:qtys AS bigint[])) "
        "AS u(id, stock_id, sku_id, qty)",
    ),
    "sqlite": (
        "INSERT INTO inventory_stock (id, tenant_id, sku_id, location_id, on_hand, reserved, "
        "allocated, updated_at) SELECT json_extract(j.value, '$[0]'), :tenant_id, "
        "json_extract(j.value, '$[1]'), :location_id, json_extract(j.value, '$[2]'), 0, 0, :now "
        "FROM json_each(:rows) AS j WHERE true ON CONFLICT (tenant_id, sku_id, location_id) "
        "DO UPDATE SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at "
        "RETURNING id, sku_id",
        "INSERT INTO inventory_movements (id, tenant_id, stock_id, sku_id, location_id, kind, "
        "quantity, reason, ref, created_at) SELECT json_extract(j.value, '$[0]'), :tenant_id, "
        "json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), :location_id, :kind, "
        "json_extract(j.value, '$[3]'), :reason, NULL, :now FROM json_each(:rows) AS j",
    ),
}


def _bulk_add_on_hand(
    session: Session,
    now: datetime,
    tenant_id: str,
    location_id: str,
    items: Sequence[tuple[str, int]],
    kind: str,
    reason: str,
) -> None:
    dialect = session.get_bind().dialect.name
    upsert_sql, movements_sql = _BULK_SQL["postgresql" if dialect == "postgresql" else "sqlite"]
    fixed = {"tenant_id": tenant_id, "location_id": location_id}
    at = bindparam("now", now, type_=UTCDateTime())
    stock_ids = new_ids("stk", len(items))
    qty = dict(items)
    if dialect == "postgresql":
        params: dict[str, Any] = {"ids": stock_ids, "sku_ids": [k for k, _ in items],
                                  "qtys": [q for _, q in items]}
    else:
        params = {"rows": json.dumps([[i, k, q] for i, (k, q) in zip(stock_ids, items,
                                                                      strict=True)])}
    rows = session.execute(text(upsert_sql).bindparams(at), {**fixed, **params}).all()
    if dialect == "postgresql":
        params = {"ids": new_ids("mov", len(rows)), "stock_ids": [r.id for r in rows],
                  "sku_ids": [r.sku_id for r in rows], "qtys": [qty[r.sku_id] for r in rows]}
    else:
        params = {"rows": json.dumps([[i, r.id, r.sku_id, qty[r.sku_id]] for i, r in zip(
            new_ids("mov", len(rows)), rows, strict=True)])}
    session.execute(text(movements_sql).bindparams(at),
                    {**fixed, **params, "kind": kind, "reason": reason})


def _record_movements(
    session: Session,
    now: datetime,
    tenant_id: str,
    changes: Sequence[tuple[str, str, str, int]],
    kind: str,
    reason: str,
    ref: str | None,
) -> None:
    """Append one movement per (stock id, sku, location, signed quantity)."""
    if not changes:
        return
    session.execute(insert(Movement), [
        {"id": new_id("mov"), "tenant_id": tenant_id, "stock_id": stock_id, "sku_id": sku_id,
         "location_id": location_id, "kind": kind, "quantity": qty, "reason": reason,
         "ref": ref, "created_at": now}
        for stock_id, sku_id, location_id, qty in changes
    ])


__all__ = [
    "ADJUST_REASONS", "LOCATION_KINDS", "MOVEMENT_KINDS", "StockLevel", "adjust", "allocate",
    "audit", "available_to_promise", "create_location", "deallocate", "expire_holds",
    "find_location",
    "get_hold", "get_location", "list_locations", "list_movements", "list_stock", "receive",
    "receive_many", "release", "reserve", "restock", "ship", "stock_level", "transfer",
]
