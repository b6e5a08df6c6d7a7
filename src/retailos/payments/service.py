"""Payments: authorise, capture, void and refund through a provider, and provider events.

The only code that writes the payment tables. Functions take the caller's session and never
commit. The provider is an external system: what it did survives a rollback of our transaction,
so every call to it carries an idempotency key derived from ours, and a retry after a rollback
gets the provider's first answer instead of a second charge. Ledger postings for captured and
refunded money are made by the orders workflow, which knows tax and fees; not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.db import insert_once, update_row
from retailos.core.errors import (
    Conflict,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PaymentAmountExceeded,
    PaymentDeclined,
    PaymentError,
    Unauthenticated,
)
from retailos.core.idempotency import check_key
from retailos.core.ids import new_id
from retailos.core.money import Money
from retailos.core.pagination import paginate
from retailos.payments import events
from retailos.payments.models import Payment, ProcessedProviderEvent, Refund
from retailos.payments.providers import (
    Connectable,
    InvalidSignature,
    PaymentProvider,
    ProviderCharge,
    ProviderResult,
    ProviderUnavailable,
    register_provider,
    registered_provider,
)

__all__ = [
    "authorize", "capture", "void", "refund", "get_payment", "list_payments", "list_refunds",
    "handle_provider_event", "parse_provider_event", "provider_for", "register_provider",
    "settle_orphaned_charges",
]

CAPTURED = ("captured", "partially_refunded", "refunded")
R = TypeVar("R")
CONFIRMED = "payment.succeeded"
CONFIRMATION_FAILED = "payment.failed"


def provider_for(name: str = "test") -> PaymentProvider:
    """The provider registered under `name` (`test`: the built-in test processor)."""
    try:
        return registered_provider(name)
    except KeyError:
        raise InvalidInput(f"no payment provider named {name!r}", field="provider") from None


def _connected(session: Session, name: str) -> PaymentProvider:
    provider = provider_for(name)
    if isinstance(provider, Connectable):
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        return provider.connected(engine)
    return provider


def _call(action: Callable[..., R], *args: Any) -> R:
    try:
        return action(*args)
    except ProviderUnavailable as e:
        raise PaymentError(f"the payment provider did not answer: {e}", retryable=True) from None


def _raise_for(result: ProviderResult, doing: str, payment_id: str | None = None) -> None:
    """Turn a provider's refusal into the problem our callers handle."""
    ids = {"payment_id": payment_id} if payment_id else {}
    code = result.code or "unknown"
    if result.outcome == "error":
        raise PaymentError(f"the payment provider failed to {doing} ({code}); retry",
                           provider_code=code, retryable=True, **ids)
    if result.outcome == "declined":
        raise PaymentDeclined(f"the card was declined ({code})", decline_code=code, **ids)
    if result.outcome == "rejected":
        detail = f"the payment provider refused to {doing}: {result.message or code}"
        if code == "idempotency_key_reused":
            raise IdempotencyConflict(detail, provider_code=code, **ids)
        if code == "amount_too_large":
            raise PaymentAmountExceeded(detail, provider_code=code, **ids)
        if code == "amount_invalid":
            raise InvalidInput(detail, field="amount", provider_code=code)
        raise Conflict(detail, provider_code=code, **ids)


def _money(payment: Payment, amount: int | None = None) -> Money:
    return Money(payment.amount if amount is None else amount, payment.currency)


def _check_amount(amount: Money, currency: str | None = None) -> None:
    if amount.amount <= 0:
        raise InvalidInput("amount must be positive", field="amount")
    if currency is not None and amount.currency != currency:
        raise InvalidInput(f"amount is in {amount.currency} but the payment is in {currency}",
                           field="amount")


def _locked(session: Session, tenant_id: str, payment_id: str) -> Payment:
    """The payment, row-locked for the rest of the transaction (SQLite's writer lock already
    serialises); another tenant's payment is not found."""
    payment = session.scalars(_LOCKED, {"tenant": tenant_id, "payment": payment_id}).first()
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    return payment


def _by_key(session: Session, tenant_id: str, key: str) -> Payment | None:
    return session.scalars(_BY_KEY, {"tenant": tenant_id, "key": key}).first()


# Built once: every checkout runs both, and building a select() and its cache key on each
# request costs more CPU than running it.
_LOCKED = (
    select(Payment)
    .where(Payment.tenant_id == bindparam("tenant"), Payment.id == bindparam("payment"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_BY_KEY = select(Payment).where(Payment.tenant_id == bindparam("tenant"),
                                Payment.idempotency_key == bindparam("key"))


def _replayed(payment: Payment, ref: str, amount: Money, number: str) -> Payment:
    if (payment.ref, payment.amount, payment.currency, payment.card_last4) != (
        ref, amount.amount, amount.currency, number[-4:]
    ):
        raise IdempotencyConflict(
            "this idempotency key was used to authorise another payment", payment_id=payment.id
        )
    if payment.status == "failed" and payment.failure_code:
        raise PaymentDeclined(f"the card was declined ({payment.failure_code})",
                              decline_code=payment.failure_code, payment_id=payment.id)
    return payment


def authorize(
    session: Session,
    clock: Clock,
    tenant_id: str,
    ref: str,
    amount: Money,
    card_number: str,
    idempotency_key: str,
    provider: str = "test",
) -> Payment:
    """Authorise `amount` on a card. Returns the payment, `authorized` or (when the card needs
    the cardholder to confirm) `pending_confirmation`. A decline records a `failed` payment and
    raises PaymentDeclined; a provider failure raises PaymentError (retry with the same key).
    The same key returns the same payment, and the provider charges once."""
    key = check_key(idempotency_key)
    number = "".join(card_number.split())
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise InvalidInput("card number must be 12 to 19 digits", field="card_number")
    if not ref or len(ref) > 100:
        raise InvalidInput("ref must be 1 to 100 characters", field="ref")
    _check_amount(amount)
    existing = _by_key(session, tenant_id, key)
    if existing is not None:
        return _replayed(existing, ref, amount, number)
    client = _connected(session, provider)
    result = _call(client.authorize, amount, number, f"{tenant_id}:{key}",
                   charge_reference(tenant_id, ref))
    if result.outcome in ("error", "rejected"):
        _raise_for(result, "authorise the payment")
    now = clock.now()
    status = {"approved": "authorized", "pending": "pending_confirmation"}.get(
        result.outcome, "failed")
    payment = Payment(
        id=new_id("pay"), tenant_id=tenant_id, ref=ref, idempotency_key=key,
        amount=amount.amount, currency=amount.currency, captured_amount=0, refunded_amount=0,
        processing_fee=0,
        status=status, provider=provider, provider_ref=result.provider_ref,
        card_last4=number[-4:], failure_code=result.code if status == "failed" else None,
        created_at=now, updated_at=now,
    )
    if not insert_once(session, payment):
        # A concurrent call with the same key won; the provider gave both the same charge.
        winner = _by_key(session, tenant_id, key)
        if winner is None:
            raise Conflict("the payment could not be recorded; retry with the same key")
        return _replayed(winner, ref, amount, number)
    if status == "authorized":
        events.publish_payment(session, clock, events.PAYMENT_AUTHORIZED, payment)
    elif status == "failed":
        events.publish_payment(session, clock, events.PAYMENT_FAILED, payment)
        _raise_for(result, "authorise the payment", payment.id)
    return payment


def capture(
    session: Session, clock: Clock, tenant_id: str, payment_id: str, amount: Money | None = None
) -> Payment:
    """Capture an authorised payment, whole or in part (the rest of the authorisation is
    released). Capturing again with the same amount is a no-op."""
    payment = _locked(session, tenant_id, payment_id)
    money = amount if amount is not None else _money(payment)
    _check_amount(money, payment.currency)
    if payment.status in CAPTURED:
        if money.amount == payment.captured_amount:
            return payment
        raise IllegalTransition(f"payment {payment.id} is already captured "
                                f"({payment.captured_amount})", payment_id=payment.id)
    if payment.status != "authorized":
        raise IllegalTransition(f"a {payment.status} payment cannot be captured",
                                payment_id=payment.id, current_status=payment.status)
    if money.amount > payment.amount:
        raise PaymentAmountExceeded(
            f"cannot capture {money}: only {_money(payment)} is authorised",
            payment_id=payment.id, available=payment.amount,
        )
    client = _connected(session, payment.provider)
    # Keyed by the authorisation's own key, not our row's id: a retry after a crash makes a new
    # row for the same provider charge, and must get the capture the provider already made.
    result = _call(client.capture, payment.provider_ref, money,
                   f"{tenant_id}:{payment.idempotency_key}:capture")
    _raise_for(result, "capture", payment.id)
    # Written now, past the session's flush: every checkout captures.
    update_row(session, payment, captured_amount=money.amount, processing_fee=result.fee,
               status="captured", updated_at=clock.now())
    events.publish_payment(session, clock, events.PAYMENT_CAPTURED, payment)
    return payment


def void(session: Session, clock: Clock, tenant_id: str, payment_id: str) -> Payment:
    """Release an authorisation (the compensation of authorise). Idempotent: voiding a voided or
    failed payment changes nothing. A captured payment is refunded, not voided."""
    payment = _locked(session, tenant_id, payment_id)
    if payment.status in ("voided", "failed"):
        return payment
    if payment.status in CAPTURED:
        raise IllegalTransition(f"payment {payment.id} is captured; refund it instead",
                                payment_id=payment.id, current_status=payment.status)
    client = _connected(session, payment.provider)
    result = _call(client.void, payment.provider_ref,
                   f"{tenant_id}:{payment.idempotency_key}:void")
    if result.code == "charge_already_captured":
        raise IllegalTransition("the provider has captured this payment; refund it instead",
                                payment_id=payment.id)
    _raise_for(result, "void", payment.id)
    payment.status = "voided"
    payment.updated_at = clock.now()
    events.publish_payment(session, clock, events.PAYMENT_VOIDED, payment)
    return payment


def refund(
    session: Session,
    clock: Clock,
    tenant_id: str,
    payment_id: str,
    amount: Money,
    reason: str,
    idempotency_key: str,
) -> Refund:
    """Refund part or all of what was captured, never more than captured minus refunded.
    The same key returns the same refund, and the provider pays out once."""
    key = check_key(idempotency_key)
    if not reason or len(reason) > 200:
        raise InvalidInput("reason must be 1 to 200 characters", field="reason")
    payment = _locked(session, tenant_id, payment_id)  # first, so a same-key retry waits here
    existing = session.scalars(
        select(Refund).where(Refund.tenant_id == tenant_id, Refund.idempotency_key == key)
    ).first()
    if existing is not None:
        if (existing.payment_id, existing.amount, existing.currency) != (
            payment.id, amount.amount, amount.currency
        ):
            raise IdempotencyConflict("this idempotency key was used for another refund",
                                      refund_id=existing.id)
        return existing
    _check_amount(amount, payment.currency)
    if payment.status not in CAPTURED:
        raise IllegalTransition(f"a {payment.status} payment cannot be refunded",
                                payment_id=payment.id, current_status=payment.status)
    available = payment.captured_amount - payment.refunded_amount
    if amount.amount > available:
        raise PaymentAmountExceeded(
            f"cannot refund {amount}: only {_money(payment, available)} of the captured "
            f"{_money(payment, payment.captured_amount)} is left to refund",
            payment_id=payment.id, available=available,
        )
    client = _connected(session, payment.provider)
    result = _call(client.refund, payment.provider_ref, amount, f"{tenant_id}:refund:{key}")
    _raise_for(result, "refund", payment.id)
    now = clock.now()
    made = Refund(
        id=new_id("rfd"), tenant_id=tenant_id, payment_id=payment.id, idempotency_key=key,
        amount=amount.amount, currency=amount.currency, reason=reason, status="succeeded",
        provider_ref=result.operation_ref, created_at=now,
    )
    session.add(made)
    payment.refunded_amount += amount.amount
    payment.status = ("refunded" if payment.refunded_amount == payment.captured_amount
                      else "partially_refunded")
    payment.updated_at = now
    events.publish_payment(session, clock, events.PAYMENT_REFUNDED, payment, made)
    return made


def get_payment(session: Session, tenant_id: str, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.tenant_id != tenant_id:
        raise NotFound(f"no payment {payment_id}")
    return payment


def list_payments(
    session: Session, tenant_id: str, cursor: str | None = None, limit: int = 50,
    ref: str | None = None,
) -> tuple[Sequence[Payment], str | None]:
    stmt = select(Payment).where(Payment.tenant_id == tenant_id)
    if ref is not None:
        stmt = stmt.where(Payment.ref == ref)
    return paginate(session, stmt, Payment.id, cursor, limit)


def list_refunds(session: Session, tenant_id: str, payment_id: str) -> list[Refund]:
    payment = get_payment(session, tenant_id, payment_id)
    stmt = (select(Refund).where(Refund.tenant_id == tenant_id, Refund.payment_id == payment.id)
            .order_by(Refund.id))
    return list(session.scalars(stmt))


def parse_provider_event(name: str, body: bytes, signature: str | None) -> dict[str, Any]:
    """The event in a provider's webhook body, if the provider signed it; else Unauthenticated."""
    try:
        provider = registered_provider(name)
    except KeyError:
        raise Unauthenticated(f"no payment provider named {name!r}") from None
    if not signature:
        raise Unauthenticated("the provider event carries no signature")
    try:
        event = provider.parse_event(body, signature)
    except InvalidSignature as e:
        raise Unauthenticated(str(e)) from None
    if event.get("provider", name) != name:
        raise Unauthenticated("the event names another provider than the one that signed it")
    event.setdefault("provider", name)
    return event


def _text(doc: Mapping[str, Any], field: str, max_length: int) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidInput(f"provider event: {field} must be a string of 1 to {max_length} "
                           "characters", field=field)
    return value


def handle_provider_event(
    session: Session, clock: Clock, event: Mapping[str, Any]
) -> Payment | None:
    """Act on a (verified) provider event once. The confirmation of a pending authorisation
    makes the payment `authorized` (or `failed`) and publishes the matching outbox event.
    Returns the payment acted on; None for a replayed event or a type we do not act on.
    An event for a payment we do not know yet raises NotFound, so the provider delivers it
    again later instead of it being lost."""
    event_id = _text(event, "id", 80)
    kind = _text(event, "type", 40)
    provider = _text(event, "provider", 40)
    if session.get(ProcessedProviderEvent, (provider, event_id)) is not None:
        return None
    payment: Payment | None = None
    if kind in (CONFIRMED, CONFIRMATION_FAILED):
        data = event.get("data")
        if not isinstance(data, Mapping):
            raise InvalidInput("provider event: data must be an object", field="data")
        provider_ref = _text(data, "provider_ref", 60)
        payment = session.scalars(
            select(Payment)
            .where(Payment.provider == provider, Payment.provider_ref == provider_ref)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if payment is None:
            raise NotFound(f"no payment for provider reference {provider_ref}; deliver later")
    if not insert_once(session, ProcessedProviderEvent(
        provider=provider, event_id=event_id, type=kind,
        tenant_id=payment.tenant_id if payment else None,
        payment_id=payment.id if payment else None, received_at=clock.now(),
    )):
        return None  # processed concurrently
    if payment is None or payment.status != "pending_confirmation":
        return payment
    payment.updated_at = clock.now()
    if kind == CONFIRMED:
        payment.status = "authorized"
        events.publish_payment(session, clock, events.PAYMENT_AUTHORIZED, payment)
    else:
        data = event["data"]
        code = data.get("code") if isinstance(data.get("code"), str) else None
        payment.status = "failed"
        payment.failure_code = (code or "authentication_failed")[:60]
        events.publish_payment(session, clock, events.PAYMENT_FAILED, payment)
    return payment


# --- charges nobody recorded ------------------------------------------------------------------


REFERENCE_PREFIX = "retailos:"


def charge_reference(tenant_id: str, ref: str) -> str:
    """What a charge is tagged with at the provider: ours (other systems may share the
    provider account), whose payment it is, and for what."""
    return f"{REFERENCE_PREFIX}{tenant_id}:{ref}"


def settle_orphaned_charges(
    session: Session, clock: Clock, *, older_than: timedelta, within: timedelta,
    provider: str = "test",
) -> list[Payment]:
    """Give back what the provider holds for payments we never recorded.

    A charge tagged with one of our references but recorded by no payment of ours belongs to a
    transaction that never committed (a checkout that crashed, or whose commit failed, after
    the provider authorised it) and whose client did not come back with the same key. Once it
    is `older_than` any request could still be running, it is voided, or refunded if it was
    captured, and recorded as a payment in that final state (with the fee the provider kept),
    so the next run sees it as ours. Looks at charges created in the `within` before that.
    Idempotent, at the provider too (its keys derive from the charge).
    """
    client = _connected(session, provider)
    until = clock.now() - older_than
    listed = _call(client.charges, until - within, until)
    tagged = {c.provider_ref: c for c in listed if _ours(c.reference)}
    if not tagged:
        return []
    known = set(session.scalars(select(Payment.provider_ref).where(
        Payment.provider == provider, Payment.provider_ref.in_(list(tagged)))))
    settled = []
    for charge in tagged.values():
        if charge.provider_ref in known:
            continue
        payment = _settle(session, clock, client, provider, charge)
        if payment is not None:
            settled.append(payment)
    return settled


def _ours(reference: str | None) -> bool:
    return reference is not None and reference.startswith(REFERENCE_PREFIX) and (
        reference.count(":") >= 2)


def _settle(
    session: Session, clock: Clock, client: PaymentProvider, provider: str, charge: ProviderCharge
) -> Payment | None:
    key = f"orphan:{charge.provider_ref}"
    if charge.status in ("authorized", "requires_confirmation"):
        _raise_for(_call(client.void, charge.provider_ref, f"{key}:void"), "void an orphan")
        status, refunded, kind = "voided", 0, events.PAYMENT_VOIDED
    elif charge.status in ("captured", "partially_refunded"):
        left = Money(charge.captured_amount - charge.refunded_amount, charge.currency)
        _raise_for(_call(client.refund, charge.provider_ref, left, f"{key}:refund"),
                   "refund an orphan")
        status, refunded, kind = "refunded", charge.captured_amount, events.PAYMENT_REFUNDED
    else:
        return None  # declined, voided or refunded already: nothing is held
    _, tenant_id, ref = (charge.reference or "").split(":", 2)
    now = clock.now()
    payment = Payment(
        id=new_id("pay"), tenant_id=tenant_id, ref=ref[:100], idempotency_key=key,
        amount=charge.amount, currency=charge.currency, captured_amount=charge.captured_amount,
        refunded_amount=refunded, processing_fee=charge.fee, status=status, provider=provider,
        provider_ref=charge.provider_ref, card_last4=charge.card_last4, failure_code=None,
        created_at=now, updated_at=now,
    )
    if not insert_once(session, payment):
        return None  # another worker settled it at the same time
    events.publish_payment(session, clock, kind, payment)
    return payment
