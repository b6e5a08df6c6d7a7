"""Carts, checkout and orders over HTTP."""

from __future__ import annotations

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.core.clock import Clock
from retailos.orders import carts, checkout, service
from retailos.orders.checkout import CheckoutRequest, CheckoutResult, Customer
from retailos.orders.schemas import (
    CancelIn,
    CartCheckoutIn,
    CartIn,
    CartLineIn,
    CartLinePatch,
    CartOut,
    CheckoutIn,
    CustomerIn,
    OrderGroupOut,
    OrderOut,
    OrderPage,
    ReturnIn,
    ReturnOut,
    ReturnResultOut,
    ShipIn,
    TaxRateIn,
    TaxRateOut,
)
from retailos.tenants.service import Principal

router = make_router("/v1", "orders")
READ, WRITE = scoped("orders:read"), scoped("orders:write")


def _key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


def _customer(body: CustomerIn) -> Customer:
    return Customer(email=body.email, name=body.name)


def _placed(db: Session, result: CheckoutResult, response: Response) -> OrderGroupOut:
    if result.view is not None:
        return OrderGroupOut.of(result.view)
    response.status_code = 200  # an earlier checkout with this key or cart answered
    return OrderGroupOut.of(service.group_view(db, result.group))


# --- carts -------------------------------------------------------------------------------------


@router.post("/carts", status_code=201, response_model=CartOut, summary="Open a cart")
def create_cart(body: CartIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
                now: Clock = Depends(clock)) -> CartOut:
    cart = carts.create_cart(db, now, who.tenant_id, body.currency)
    return CartOut.of(carts.CartView(cart, []))


@router.get("/carts/{cart_id}", response_model=CartOut,
            summary="A cart, priced at today's catalogue prices")
def get_cart(cart_id: str, who: Principal = Depends(READ),
             db: Session = Depends(session)) -> CartOut:
    return CartOut.of(carts.view_cart(db, who.tenant_id, cart_id))


@router.post("/carts/{cart_id}/lines", status_code=201, response_model=CartOut,
             summary="Add a sku to the cart (raises its quantity if already there)")
def add_line(cart_id: str, body: CartLineIn, who: Principal = Depends(WRITE),
             db: Session = Depends(session), now: Clock = Depends(clock)) -> CartOut:
    return CartOut.of(carts.add_line(db, now, who.tenant_id, cart_id, body.sku_id,
                                     body.quantity))


@router.patch("/carts/{cart_id}/lines/{line_id}", response_model=CartOut,
              summary="Set a line's quantity")
def set_line(cart_id: str, line_id: str, body: CartLinePatch, who: Principal = Depends(WRITE),
             db: Session = Depends(session), now: Clock = Depends(clock)) -> CartOut:
    return CartOut.of(carts.set_line_quantity(db, now, who.tenant_id, cart_id, line_id,
                                              body.quantity))


@router.delete("/carts/{cart_id}/lines/{line_id}", response_model=CartOut,
               summary="Remove a line")
def remove_line(cart_id: str, line_id: str, who: Principal = Depends(WRITE),
                db: Session = Depends(session), now: Clock = Depends(clock)) -> CartOut:
    return CartOut.of(carts.remove_line(db, now, who.tenant_id, cart_id, line_id))


@router.post("/carts/{cart_id}/checkout", status_code=201, response_model=OrderGroupOut,
             summary="Check the cart out: an order group with one order per seller")
def checkout_cart(
    cart_id: str, body: CartCheckoutIn, request: Request, response: Response,
    who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> OrderGroupOut:
    result = checkout.checkout_cart(db, now, who.tenant_id, cart_id, body.payment.card_number,
                                    _customer(body.customer), _key(request))
    return _placed(db, result, response)


@router.post("/checkouts", status_code=201, response_model=OrderGroupOut,
             summary="Check out a basket in one request, without a cart")
def checkout_basket(
    body: CheckoutIn, request: Request, response: Response, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> OrderGroupOut:
    result = checkout.checkout(db, now, who.tenant_id, CheckoutRequest(
        currency=body.currency, lines=[(x.sku_id, x.quantity) for x in body.lines],
        card_number=body.payment.card_number, customer=_customer(body.customer),
        idempotency_key=_key(request),
    ))
    return _placed(db, result, response)


# --- order groups and orders -------------------------------------------------------------------


@router.get("/order-groups/{group_id}", response_model=OrderGroupOut)
def get_group(group_id: str, who: Principal = Depends(READ),
              db: Session = Depends(session)) -> OrderGroupOut:
    return OrderGroupOut.of(service.get_group(db, who.tenant_id, group_id))


@router.get("/orders", response_model=OrderPage, summary="Orders, oldest first")
def list_orders(
    status: str | None = Query(default=None, description="placed, paid, fulfilled, ..."),
    cursor: str | None = None, limit: int = Query(default=50, ge=1, le=200),
    who: Principal = Depends(READ), db: Session = Depends(session),
) -> OrderPage:
    views, next_cursor = service.list_orders(db, who.tenant_id, status, cursor, limit)
    return OrderPage(data=[OrderOut.of(v) for v in views], next_cursor=next_cursor)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: str, who: Principal = Depends(READ),
              db: Session = Depends(session)) -> OrderOut:
    return OrderOut.of(service.get_order(db, who.tenant_id, order_id))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut,
             summary="Cancel before shipment: stock back, money back")
def cancel(order_id: str, body: CancelIn | None = None, who: Principal = Depends(WRITE),
           db: Session = Depends(session), now: Clock = Depends(clock)) -> OrderOut:
    reason = body.reason if body is not None else "cancelled"
    return OrderOut.of(service.cancel_order(db, now, who.tenant_id, order_id, reason))


@router.post("/orders/{order_id}/fulfil", response_model=OrderOut,
             summary="Picked and packed: paid -> fulfilled")
def fulfil(order_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
           now: Clock = Depends(clock)) -> OrderOut:
    return OrderOut.of(service.fulfil_order(db, now, who.tenant_id, order_id))


@router.post("/orders/{order_id}/ship", response_model=OrderOut,
             summary="Hand over to the carrier: a shipment, and the stock leaves")
def ship(order_id: str, body: ShipIn | None = None, who: Principal = Depends(WRITE),
         db: Session = Depends(session), now: Clock = Depends(clock)) -> OrderOut:
    body = body or ShipIn()
    return OrderOut.of(service.ship_order(db, now, who.tenant_id, order_id, body.carrier,
                                          body.tracking_number))


@router.post("/orders/{order_id}/deliver", response_model=OrderOut)
def deliver(order_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
            now: Clock = Depends(clock)) -> OrderOut:
    return OrderOut.of(service.deliver_order(db, now, who.tenant_id, order_id))


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnResultOut,
             summary="Take back some or all units: restock and refund with tax")
def create_return(
    order_id: str, body: ReturnIn, request: Request, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> ReturnResultOut:
    ret = service.return_items(db, now, who.tenant_id, order_id,
                               [(x.sku_id, x.quantity) for x in body.lines], body.reason,
                               _key(request))
    return ReturnResultOut(order_return=ReturnOut.model_validate(ret),
                           order=OrderOut.of(service.get_order(db, who.tenant_id, order_id)))


@router.get("/orders/{order_id}/returns", response_model=list[ReturnOut])
def list_returns(order_id: str, who: Principal = Depends(READ),
                 db: Session = Depends(session)) -> list[ReturnOut]:
    return [ReturnOut.model_validate(r)
            for r in service.list_returns(db, who.tenant_id, order_id)]


# --- tax ---------------------------------------------------------------------------------------


@router.put("/tax-rate", response_model=TaxRateOut,
            summary="Set the sales tax applied to the calling tenant's checkouts")
def set_tax_rate(body: TaxRateIn, who: Principal = Depends(WRITE),
                 db: Session = Depends(session), now: Clock = Depends(clock)) -> TaxRateOut:
    return TaxRateOut.model_validate(service.set_tax_rate(db, now, who.tenant_id, body.rate_bp))


@router.get("/tax-rate", response_model=TaxRateOut)
def get_tax_rate(who: Principal = Depends(READ), db: Session = Depends(session),
                 now: Clock = Depends(clock)) -> TaxRateOut:
    return TaxRateOut.model_validate(service.get_tax_rate(db, now, who.tenant_id))
