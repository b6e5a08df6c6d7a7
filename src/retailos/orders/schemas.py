"""API shapes for carts, checkouts, order groups, orders, shipments and returns.

Amounts are integers in the currency's minor unit, next to the ISO `currency` they are in."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from retailos.orders.carts import MAX_LINES, MAX_QUANTITY, CartView
from retailos.orders.views import GroupView, OrderView

SkuId = Field(min_length=1, max_length=40)
Quantity = Field(ge=1, le=MAX_QUANTITY)


class CartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class CartLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: str = SkuId
    quantity: int = Quantity


class CartLinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Quantity


class CartLineOut(BaseModel):
    id: str
    sku_id: str
    quantity: int
    for_sale: bool = Field(description="False when the sku is no longer sold in this currency")
    sku: str | None
    title: str | None
    unit_price: int | None
    subtotal: int | None


class CartOut(BaseModel):
    id: str
    currency: str
    status: str
    order_group_id: str | None
    lines: list[CartLineOut]
    subtotal: int = Field(description="At today's catalogue prices, before tax")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: CartView) -> CartOut:
        lines = []
        for p in view.lines:
            v = p.variant
            lines.append(CartLineOut(
                id=p.line.id, sku_id=p.line.sku_id, quantity=p.line.quantity,
                for_sale=v is not None, sku=v.sku if v else None, title=v.title if v else None,
                unit_price=v.unit_price.amount if v else None,
                subtotal=v.unit_price.amount * p.line.quantity if v else None,
            ))
        c = view.cart
        return cls(id=c.id, currency=c.currency, status=c.status,
                   order_group_id=c.order_group_id, lines=lines,
                   subtotal=sum(x.subtotal or 0 for x in lines),
                   created_at=c.created_at, updated_at=c.updated_at)


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_number: str = Field(min_length=12, max_length=23, examples=["4242424242424242"])


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)


class CartCheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment: PaymentIn
    customer: CustomerIn


class CheckoutLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: str = SkuId
    quantity: int = Quantity


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[CheckoutLineIn] = Field(max_length=MAX_LINES)
    payment: PaymentIn
    customer: CustomerIn


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    sku_id: str
    sku: str
    title: str
    seller_id: str
    quantity: int
    returned_quantity: int
    currency: str
    unit_price: int
    subtotal: int
    tax: int


class ShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    status: str
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime
    delivered_at: datetime | None


class FeesOut(BaseModel):
    referral: int
    per_order: int
    total: int


class OrderOut(BaseModel):
    id: str
    group_id: str
    seller_id: str
    status: str
    currency: str
    subtotal: int
    tax: int
    total: int
    fees: FeesOut = Field(description="Platform fees frozen at sale time")
    refunded: int
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    returned_at: datetime | None

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        o = view.order
        return cls(
            id=o.id, group_id=o.group_id, seller_id=o.seller_id, status=o.status,
            currency=o.currency, subtotal=o.subtotal, tax=o.tax, total=o.total,
            fees=FeesOut(referral=o.fee_referral, per_order=o.fee_per_order, total=o.fee_total),
            refunded=o.refunded,
            lines=[OrderLineOut.model_validate(x) for x in view.lines],
            shipments=[ShipmentOut.model_validate(x) for x in view.shipments],
            created_at=o.created_at, updated_at=o.updated_at, paid_at=o.paid_at,
            shipped_at=o.shipped_at, delivered_at=o.delivered_at, cancelled_at=o.cancelled_at,
            returned_at=o.returned_at,
        )


class PaymentOut(BaseModel):
    id: str | None
    status: str


class CustomerOut(BaseModel):
    email: str
    name: str | None


class OrderGroupOut(BaseModel):
    id: str
    cart_id: str | None
    currency: str
    customer: CustomerOut
    subtotal: int
    tax: int
    tax_rate_bp: int
    total: int
    payment: PaymentOut
    orders: list[OrderOut]
    created_at: datetime

    @classmethod
    def of(cls, view: GroupView) -> OrderGroupOut:
        g = view.group
        return cls(
            id=g.id, cart_id=g.cart_id, currency=g.currency,
            customer=CustomerOut(email=g.customer_email, name=g.customer_name),
            subtotal=g.subtotal, tax=g.tax, tax_rate_bp=g.tax_rate_bp, total=g.total,
            payment=PaymentOut(id=g.payment_id, status=g.payment_status),
            orders=[OrderOut.of(v) for v in view.orders], created_at=g.created_at,
        )


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="cancelled", min_length=1, max_length=200)


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str | None = Field(default=None, max_length=100)
    tracking_number: str | None = Field(default=None, max_length=100)


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: str = SkuId
    quantity: int = Quantity


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reason: str = Field(min_length=1, max_length=200)


class ReturnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    order_id: str
    reason: str
    currency: str
    amount: int = Field(description="Refunded, tax included")
    tax: int
    fees_returned: int
    refund_id: str | None
    created_at: datetime


class ReturnResultOut(BaseModel):
    order_return: ReturnOut
    order: OrderOut


class TaxRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_bp: int = Field(ge=0, le=10_000, description="Basis points: 825 is 8.25 %")


class TaxRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    tenant_id: str
    rate_bp: int
    updated_at: datetime
