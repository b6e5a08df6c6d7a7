"""Carts: lines of sku and quantity in one currency. Prices are never stored on a cart; they are
read from the catalogue whenever the cart is shown and frozen only when it is checked out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from retailos.catalog import service as catalog
from retailos.catalog.service import SaleableVariant
from retailos.core.clock import Clock
from retailos.core.errors import Conflict, InvalidInput, NotFound
from retailos.core.ids import new_id
from retailos.core.money import check_currency
from retailos.orders.models import Cart, CartLine

MAX_QUANTITY = 1_000
MAX_LINES = 200


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    variant: SaleableVariant | None  # None: no longer for sale in the cart's currency


@dataclass(frozen=True)
class CartView:
    cart: Cart
    lines: list[PricedLine]


def checked_currency(currency: str) -> str:
    try:
        return check_currency(currency)
    except ValueError as e:
        raise InvalidInput(str(e), field="currency") from None


def checked_quantity(quantity: int, field: str = "quantity") -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field=field)
    return quantity


def create_cart(session: Session, clock: Clock, tenant_id: str, currency: str) -> Cart:
    now = clock.now()
    cart = Cart(id=new_id("cart"), tenant_id=tenant_id, currency=checked_currency(currency),
                status="open", order_group_id=None, created_at=now, updated_at=now)
    session.add(cart)
    session.flush()
    return cart


def get_cart(session: Session, tenant_id: str, cart_id: str) -> Cart:
    cart = session.get(Cart, cart_id)
    if cart is None or cart.tenant_id != tenant_id:
        raise NotFound(f"no cart {cart_id}")
    return cart


def cart_lines(session: Session, tenant_id: str, cart_id: str) -> list[CartLine]:
    stmt = (select(CartLine)
            .where(CartLine.tenant_id == tenant_id, CartLine.cart_id == cart_id)
            .order_by(CartLine.id))
    return list(session.scalars(stmt))


def view_cart(session: Session, tenant_id: str, cart_id: str) -> CartView:
    cart = get_cart(session, tenant_id, cart_id)
    lines = cart_lines(session, tenant_id, cart_id)
    priced = catalog.variants_for_sale(session, tenant_id, [x.sku_id for x in lines],
                                       cart.currency) if lines else {}
    return CartView(cart, [PricedLine(x, priced.get(x.sku_id)) for x in lines])


def _open_cart(session: Session, tenant_id: str, cart_id: str) -> Cart:
    cart = get_cart(session, tenant_id, cart_id)
    if cart.status != "open":
        raise Conflict(f"cart {cart_id} is checked out; start a new cart",
                       cart_id=cart_id, order_group_id=cart.order_group_id)
    return cart


def _saleable(session: Session, tenant_id: str, sku_ids: Sequence[str], currency: str) -> None:
    found = catalog.variants_for_sale(session, tenant_id, sku_ids, currency)
    missing = sorted(set(sku_ids) - set(found))
    if missing:
        raise InvalidInput(f"not for sale in {currency}: {', '.join(missing)}",
                           field="sku_id", skus=missing)


def add_line(
    session: Session, clock: Clock, tenant_id: str, cart_id: str, sku_id: str, quantity: int
) -> CartView:
    """Add `quantity` of a saleable sku; adding a sku already in the cart raises its quantity."""
    cart = _open_cart(session, tenant_id, cart_id)
    checked_quantity(quantity)
    _saleable(session, tenant_id, [sku_id], cart.currency)
    lines = cart_lines(session, tenant_id, cart_id)
    existing = next((x for x in lines if x.sku_id == sku_id), None)
    if existing is not None:
        existing.quantity = checked_quantity(existing.quantity + quantity)
    else:
        if len(lines) >= MAX_LINES:
            raise InvalidInput(f"a cart holds at most {MAX_LINES} lines", field="sku_id")
        session.add(CartLine(id=new_id("cli"), tenant_id=tenant_id, cart_id=cart.id,
                             sku_id=sku_id, quantity=quantity, created_at=clock.now()))
    cart.updated_at = clock.now()
    session.flush()
    return view_cart(session, tenant_id, cart_id)


def _line(session: Session, tenant_id: str, cart_id: str, line_id: str) -> CartLine:
    line = session.get(CartLine, line_id)
    if line is None or line.tenant_id != tenant_id or line.cart_id != cart_id:
        raise NotFound(f"no line {line_id} in cart {cart_id}")
    return line


def set_line_quantity(
    session: Session, clock: Clock, tenant_id: str, cart_id: str, line_id: str, quantity: int
) -> CartView:
    cart = _open_cart(session, tenant_id, cart_id)
    line = _line(session, tenant_id, cart_id, line_id)
    line.quantity = checked_quantity(quantity)
    cart.updated_at = clock.now()
    session.flush()
    return view_cart(session, tenant_id, cart_id)


def remove_line(
    session: Session, clock: Clock, tenant_id: str, cart_id: str, line_id: str
) -> CartView:
    cart = _open_cart(session, tenant_id, cart_id)
    session.delete(_line(session, tenant_id, cart_id, line_id))
    cart.updated_at = clock.now()
    session.flush()
    return view_cart(session, tenant_id, cart_id)


def mark_checked_out(cart: Cart, clock: Clock, order_group_id: str) -> None:
    cart.status = "checked_out"
    cart.order_group_id = order_group_id
    cart.updated_at = clock.now()
