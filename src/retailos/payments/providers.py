"""Payment providers: the interface our payments service talks to, and a built-in test provider
that behaves like a real card processor.

The test provider is an external system that happens to run in our process. It keeps its own
tables (`testprovider_*`) and writes them in its own short transactions, so its charges survive
a rollback of our transaction, exactly as a real processor's would. It honours idempotency keys,
declines or fails by test card number (the numbers Stripe uses), confirms some authorisations
only later by a signed event, and injects latency and seeded failures for fault tests.

On SQLite one file has one writer at a time and our open transaction holds the write lock, so
there the provider's tables live in a sibling file (`<db>.testprovider.db`); on PostgreSQL they
live in the same database.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy import JSON, Connection, Engine, ForeignKey, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from retailos.core.clock import Clock, SystemClock
from retailos.core.db import Base, id_column, make_engine
from retailos.core.ids import new_id
from retailos.core.money import Money
from retailos.payments.settings import get_payment_settings

Outcome = Literal["approved", "pending", "declined", "rejected", "error"]
SIGNATURE_HEADER = "Provider-Signature"


@dataclass(frozen=True)
class ProviderResult:
    """What the processor answered.

    outcome: approved; pending (the authorisation waits for an asynchronous confirmation);
    declined (the card was refused: code says why); rejected (the request was invalid: more than
    authorised, wrong state, idempotency key reused); error (the processor failed; retryable).
    """

    outcome: Outcome
    provider_ref: str  # the processor's charge id
    amount: int
    currency: str
    code: str | None = None
    message: str | None = None
    operation_ref: str | None = None  # the processor's refund id, for refunds
    fee: int = 0  # what the processor keeps of a capture as its charge, in minor units

    @property
    def ok(self) -> bool:
        return self.outcome in ("approved", "pending")

    @property
    def retryable(self) -> bool:
        return self.outcome == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome, "provider_ref": self.provider_ref, "amount": self.amount,
            "currency": self.currency, "code": self.code, "message": self.message,
            "operation_ref": self.operation_ref, "fee": self.fee,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ProviderResult:
        return cls(**dict(doc))


@dataclass(frozen=True)
class ProviderCharge:
    """A charge as the processor lists it (Stripe: a payment intent)."""

    provider_ref: str
    reference: str | None  # what the merchant tagged it with at authorisation
    status: str  # authorized, requires_confirmation, captured, partially_refunded, refunded,
    #              voided, failed
    amount: int
    captured_amount: int
    refunded_amount: int
    currency: str
    fee: int
    card_last4: str
    created_at: datetime


class ProviderUnavailable(Exception):
    """The processor did not answer (timeout, connection reset). Whether it acted is unknown:
    retry with the same idempotency key."""


class InvalidSignature(Exception):
    """A provider event whose signature does not match the provider's secret."""


class PaymentProvider(Protocol):
    name: str

    def authorize(
        self, amount: Money, card: str, idempotency_key: str, reference: str | None = None
    ) -> ProviderResult:
        """Authorise `amount`; `reference` tags the charge (Stripe: metadata) for listing."""
        ...

    def charges(self, created_from: datetime, created_before: datetime) -> list[ProviderCharge]:
        """The charges created in [created_from, created_before), oldest first."""
        ...

    def capture(
        self, provider_ref: str, amount: Money, idempotency_key: str
    ) -> ProviderResult: ...

    def void(self, provider_ref: str, idempotency_key: str) -> ProviderResult: ...

    def refund(
        self, provider_ref: str, amount: Money, idempotency_key: str
    ) -> ProviderResult: ...

    def parse_event(self, body: bytes, signature: str) -> dict[str, Any]:
        """The event in a webhook body, after checking its signature; InvalidSignature if not."""
        ...


@runtime_checkable
class Connectable(Protocol):
    """A provider whose state lives beside our database (the test provider): the service
    connects it to the database of the session it works in."""

    def connected(self, engine: Engine) -> PaymentProvider: ...


# --- The test processor's own tables ------------------------------------------------------------


class TestProviderCharge(Base):
    __tablename__ = "testprovider_charges"

    id: Mapped[str] = id_column()
    status: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    captured_amount: Mapped[int]
    refunded_amount: Mapped[int]
    card_last4: Mapped[str] = mapped_column(String(4))
    decline_code: Mapped[str | None] = mapped_column(String(40), default=None)
    reference: Mapped[str | None] = mapped_column(String(140), default=None)
    fee: Mapped[int] = mapped_column(default=0)  # kept on capture
    created_at: Mapped[datetime] = mapped_column(index=True)


class TestProviderRefund(Base):
    __tablename__ = "testprovider_refunds"

    id: Mapped[str] = id_column()
    charge_id: Mapped[str] = mapped_column(ForeignKey("testprovider_charges.id"), index=True)
    amount: Mapped[int]
    created_at: Mapped[datetime]


class TestProviderRequest(Base):
    """An idempotency key and the answer given under it: the same key gets the same answer."""

    __tablename__ = "testprovider_requests"

    idempotency_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class TestProviderEvent(Base):
    __tablename__ = "testprovider_events"

    id: Mapped[str] = id_column()
    type: Mapped[str] = mapped_column(String(40))
    charge_id: Mapped[str] = mapped_column(ForeignKey("testprovider_charges.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


TABLES = [Base.metadata.tables[t.__tablename__] for t in (
    TestProviderCharge, TestProviderRefund, TestProviderRequest, TestProviderEvent)]

# --- Test cards --------------------------------------------------------------------------------

# Card number -> (outcome, code). Any other number that passes the Luhn check is approved.
TEST_CARDS: dict[str, tuple[Outcome, str | None]] = {
    "4242424242424242": ("approved", None),
    "4000000000000002": ("declined", "card_declined"),
    "4000000000009995": ("declined", "insufficient_funds"),
    "4000000000000069": ("declined", "expired_card"),
    "4000000000000119": ("error", "processing_error"),
    "4000000000003220": ("pending", "authentication_required"),
}


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a webhook body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> None:
    if not hmac.compare_digest(sign(secret, body), signature.strip()):
        raise InvalidSignature("the event's signature does not match the provider secret")


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


# --- Where the test processor keeps its state --------------------------------------------------

_stores: dict[str, Engine] = {}
_stores_lock = threading.Lock()


def _store_for(engine: Engine) -> Engine:
    """The engine holding the processor's tables for our database behind `engine`.

    Always an engine of its own, with its own pool: a request holds one of the app's pooled
    connections while it calls the processor, so borrowing a second from the same pool would
    deadlock once every connection is held by a request waiting for another.
    """
    url = engine.url
    key = url.render_as_string(hide_password=False)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            database = url.database
            if engine.dialect.name != "sqlite":
                # the same PostgreSQL database; row locks keep writers apart
                store = make_engine(key, pool_size=5, max_overflow=60)
            elif not database or database == ":memory:":
                store = make_engine("sqlite://", poolclass=StaticPool)
            else:
                sibling = Path(database).with_suffix(".testprovider.db")
                # Pooled: a new SQLite connection would rerun the PRAGMAs on every call.
                store = make_engine(f"sqlite:///{sibling}", pool_size=5, max_overflow=40)
            Base.metadata.create_all(store, tables=TABLES)
            _stores[key] = store
    return store


# --- The processor ------------------------------------------------------------------------------


class TestProvider:
    """A card processor for development and tests. See the module docstring."""

    __test__ = False  # not a pytest test class
    # Its charge per capture: Stripe's standard card pricing in the US, 2.9% + 30 cents
    # (applied as 290 basis points + 30 minor units in any currency).
    FEE_BP, FEE_FIXED = 290, 30

    def __init__(
        self,
        *,
        name: str = "test",
        latency_seconds: float | None = None,
        failure_rate: float | None = None,
        response_loss_rate: float | None = None,
        seed: int | None = None,
        webhook_secret: str | None = None,
        engine: Engine | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock | None = None,
    ) -> None:
        settings = get_payment_settings()
        self.name = name
        self.latency_seconds = (settings.test_latency_seconds if latency_seconds is None
                                else latency_seconds)
        self.failure_rate = settings.test_failure_rate if failure_rate is None else failure_rate
        self.response_loss_rate = (settings.test_response_loss_rate if response_loss_rate is None
                                   else response_loss_rate)
        for label, rate in (("failure_rate", self.failure_rate),
                            ("response_loss_rate", self.response_loss_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{label} must be between 0 and 1, got {rate}")
        if self.latency_seconds < 0:
            raise ValueError("latency_seconds must not be negative")
        self.webhook_secret = webhook_secret or settings.webhook_secret
        self._rng = random.Random(settings.test_seed if seed is None else seed)
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        # The processor keeps its own clock, as a real one would (tests may share theirs).
        self._clock = clock or SystemClock()
        self._store = _store_for(engine) if engine is not None else None

    def fee_for(self, captured: Money) -> int:
        """The processor's charge for capturing `captured`, rounded half up."""
        return (captured.amount * self.FEE_BP + 5_000) // 10_000 + self.FEE_FIXED

    # -- connection ------------------------------------------------------------------------------

    def connected(self, engine: Engine) -> TestProvider:
        """This provider (same settings, same seeded faults) keeping state beside `engine`."""
        store = _store_for(engine)
        if self._store is store:
            return self
        view = copy.copy(self)  # shares the random generator and its lock
        view._store = store
        return view

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self._store is None:
            raise RuntimeError("the test provider is not connected to a database; "
                               "use provider.connected(engine)")
        with self._store.begin() as conn:
            yield conn

    # -- faults ----------------------------------------------------------------------------------

    def _roll(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def _before_request(self, operation: str) -> None:
        if self.latency_seconds:
            self._sleep(self.latency_seconds)
        if self.failure_rate and self._roll() < self.failure_rate:
            raise ProviderUnavailable(f"test provider: injected failure before {operation}")

    def _after_request(self, operation: str) -> None:
        if self.response_loss_rate and self._roll() < self.response_loss_rate:
            raise ProviderUnavailable(
                f"test provider: {operation} was done but the response was lost"
            )

    # -- idempotency -----------------------------------------------------------------------------

    def _idempotent(
        self,
        operation: str,
        idempotency_key: str,
        fingerprint: str,
        act: Callable[[Connection], ProviderResult],
    ) -> ProviderResult:
        """Run `act` once per key: a repeated key returns the stored answer, a key reused for
        another request is rejected. Errors are not stored, so a retry runs anew."""
        self._before_request(operation)
        for _attempt in range(3):
            try:
                with self._transaction() as conn:
                    stored = conn.execute(
                        select(TestProviderRequest)
                        .where(TestProviderRequest.idempotency_key == idempotency_key)
                    ).first()
                    if stored is not None:
                        if stored.fingerprint != fingerprint or stored.operation != operation:
                            return _reused(stored.result)
                        result = ProviderResult.from_dict(stored.result)
                    else:
                        result = act(conn)
                        if result.outcome != "error":
                            conn.execute(insert(TestProviderRequest).values(
                                idempotency_key=idempotency_key, operation=operation,
                                fingerprint=fingerprint, result=result.to_dict(),
                                created_at=self._clock.now(),
                            ))
                break
            except IntegrityError:
                continue  # a concurrent request with this key won; read its answer
        else:  # pragma: no cover - three lost races in a row
            raise ProviderUnavailable("test provider: idempotency key contended")
        self._after_request(operation)
        return result

    # -- operations ------------------------------------------------------------------------------

    def authorize(
        self, amount: Money, card: str, idempotency_key: str, reference: str | None = None
    ) -> ProviderResult:
        number = "".join(card.split())
        fingerprint = _fingerprint("authorize", amount.amount, amount.currency,
                                   hashlib.sha256(number.encode()).hexdigest())

        def act(conn: Connection) -> ProviderResult:
            charge_id = new_id("tpch")
            if amount.amount <= 0:
                return ProviderResult("rejected", "", amount.amount, amount.currency,
                                      code="amount_invalid", message="amount must be positive")
            if not luhn_valid(number):
                outcome: Outcome = "declined"
                code: str | None = "incorrect_number"
            else:
                outcome, code = TEST_CARDS.get(number, ("approved", None))
            if outcome == "error":
                return ProviderResult("error", "", amount.amount, amount.currency, code=code,
                                      message="the processor failed; retry")
            status = {"approved": "authorized", "pending": "requires_confirmation",
                      "declined": "failed"}[outcome]
            conn.execute(insert(TestProviderCharge).values(
                id=charge_id, status=status, amount=amount.amount, currency=amount.currency,
                captured_amount=0, refunded_amount=0, card_last4=number[-4:],
                decline_code=code if outcome == "declined" else None, reference=reference,
                fee=0, created_at=self._clock.now(),
            ))
            return ProviderResult(outcome, charge_id, amount.amount, amount.currency, code=code)

        return self._idempotent("authorize", idempotency_key, fingerprint, act)

    def capture(self, provider_ref: str, amount: Money, idempotency_key: str) -> ProviderResult:
        fingerprint = _fingerprint("capture", provider_ref, amount.amount, amount.currency)

        def act(conn: Connection) -> ProviderResult:
            charge = _locked_charge(conn, provider_ref)
            if charge is None:
                return _rejected(provider_ref, amount, "no_such_charge")
            if charge.currency != amount.currency:
                return _rejected(provider_ref, amount, "currency_mismatch")
            if charge.status != "authorized":
                return _rejected(provider_ref, amount, "charge_not_capturable",
                                 f"the charge is {charge.status}")
            if not 0 < amount.amount <= charge.amount:
                return _rejected(provider_ref, amount, "amount_too_large",
                                 f"capture of {amount.amount} exceeds the {charge.amount} "
                                 "authorised")
            fee = self.fee_for(amount)
            conn.execute(update(TestProviderCharge).where(TestProviderCharge.id == charge.id)
                         .values(status="captured", captured_amount=amount.amount, fee=fee))
            return ProviderResult("approved", provider_ref, amount.amount, amount.currency,
                                  fee=fee)

        return self._idempotent("capture", idempotency_key, fingerprint, act)

    def void(self, provider_ref: str, idempotency_key: str) -> ProviderResult:
        fingerprint = _fingerprint("void", provider_ref)

        def act(conn: Connection) -> ProviderResult:
            charge = _locked_charge(conn, provider_ref)
            if charge is None:
                return ProviderResult("rejected", provider_ref, 0, "USD", code="no_such_charge")
            money = Money(charge.amount, charge.currency)
            if charge.status in ("authorized", "requires_confirmation"):
                conn.execute(update(TestProviderCharge)
                             .where(TestProviderCharge.id == charge.id).values(status="voided"))
            elif charge.status not in ("voided", "failed"):
                return _rejected(provider_ref, money, "charge_already_captured",
                                 "a captured charge is refunded, not voided")
            return ProviderResult("approved", provider_ref, money.amount, money.currency)

        return self._idempotent("void", idempotency_key, fingerprint, act)

    def refund(self, provider_ref: str, amount: Money, idempotency_key: str) -> ProviderResult:
        fingerprint = _fingerprint("refund", provider_ref, amount.amount, amount.currency)

        def act(conn: Connection) -> ProviderResult:
            charge = _locked_charge(conn, provider_ref)
            if charge is None:
                return _rejected(provider_ref, amount, "no_such_charge")
            if charge.currency != amount.currency:
                return _rejected(provider_ref, amount, "currency_mismatch")
            if charge.status not in ("captured", "partially_refunded"):
                return _rejected(provider_ref, amount, "charge_not_refundable",
                                 f"the charge is {charge.status}")
            left = charge.captured_amount - charge.refunded_amount
            if not 0 < amount.amount <= left:
                return _rejected(provider_ref, amount, "amount_too_large",
                                 f"refund of {amount.amount} exceeds the {left} refundable")
            refunded = charge.refunded_amount + amount.amount
            status = "refunded" if refunded == charge.captured_amount else "partially_refunded"
            conn.execute(update(TestProviderCharge).where(TestProviderCharge.id == charge.id)
                         .values(refunded_amount=refunded, status=status))
            refund_id = new_id("tpre")
            conn.execute(insert(TestProviderRefund).values(
                id=refund_id, charge_id=charge.id, amount=amount.amount,
                created_at=self._clock.now(),
            ))
            return ProviderResult("approved", provider_ref, amount.amount, amount.currency,
                                  operation_ref=refund_id)

        return self._idempotent("refund", idempotency_key, fingerprint, act)

    # -- asynchronous confirmation and events ------------------------------------------------------

    def confirm(self, provider_ref: str, succeed: bool = True) -> dict[str, Any]:
        """The cardholder completes (or fails) authentication of a pending charge: the charge
        becomes authorised (or failed) and the processor emits `payment.succeeded` (or
        `payment.failed`). Repeating it returns the event already emitted."""
        with self._transaction() as conn:
            charge = _locked_charge(conn, provider_ref)
            if charge is None:
                raise KeyError(f"no charge {provider_ref}")
            if charge.status != "requires_confirmation":
                emitted = conn.execute(
                    select(TestProviderEvent.payload)
                    .where(TestProviderEvent.charge_id == provider_ref)
                    .order_by(TestProviderEvent.id)
                ).scalars().first()
                if emitted is None:
                    raise ValueError(f"charge {provider_ref} is {charge.status}, not pending")
                return dict(emitted)
            status, kind, code = (("authorized", "payment.succeeded", None) if succeed
                                  else ("failed", "payment.failed", "authentication_failed"))
            conn.execute(update(TestProviderCharge).where(TestProviderCharge.id == charge.id)
                         .values(status=status, decline_code=code))
            event_id = new_id("tpevt")
            created = self._clock.now()
            payload = {
                "id": event_id, "type": kind, "provider": self.name,
                "created": created.isoformat(),
                "data": {"provider_ref": provider_ref, "amount": charge.amount,
                         "currency": charge.currency, "code": code},
            }
            conn.execute(insert(TestProviderEvent).values(
                id=event_id, type=kind, charge_id=charge.id, payload=payload, created_at=created,
            ))
            return payload

    def events(self) -> list[dict[str, Any]]:
        """Every event the processor has emitted, oldest first."""
        with self._transaction() as conn:
            rows = conn.execute(select(TestProviderEvent.payload).order_by(TestProviderEvent.id))
            return [dict(p) for p in rows.scalars()]

    def signed(self, event: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body and headers with which the processor delivers `event` to our webhook."""
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        return body, {SIGNATURE_HEADER: sign(self.webhook_secret, body),
                      "Content-Type": "application/json"}

    def parse_event(self, body: bytes, signature: str) -> dict[str, Any]:
        verify(self.webhook_secret, body, signature)
        try:
            event = json.loads(body)
        except ValueError:
            raise InvalidSignature("the event body is not JSON") from None
        if not isinstance(event, dict):
            raise InvalidSignature("the event body is not a JSON object")
        return event

    # -- inspection (the processor's dashboard) --------------------------------------------------

    def charge(self, provider_ref: str) -> TestProviderCharge | None:
        with self._transaction() as conn:
            row = conn.execute(
                select(TestProviderCharge).where(TestProviderCharge.id == provider_ref)
            ).first()
        if row is None:
            return None
        return TestProviderCharge(**row._mapping)

    def charges(self, created_from: datetime, created_before: datetime) -> list[ProviderCharge]:
        with self._transaction() as conn:
            rows = conn.execute(
                select(TestProviderCharge)
                .where(TestProviderCharge.created_at >= created_from,
                       TestProviderCharge.created_at < created_before)
                .order_by(TestProviderCharge.created_at, TestProviderCharge.id)
            )
            return [ProviderCharge(
                provider_ref=r.id, reference=r.reference, status=r.status, amount=r.amount,
                captured_amount=r.captured_amount, refunded_amount=r.refunded_amount,
                currency=r.currency, fee=r.fee, card_last4=r.card_last4,
                created_at=r.created_at,
            ) for r in rows]

    def charge_count(self) -> int:
        with self._transaction() as conn:
            return len(conn.execute(select(TestProviderCharge.id)).all())


def _reused(stored: Mapping[str, Any]) -> ProviderResult:
    return ProviderResult(
        "rejected", str(stored.get("provider_ref", "")), int(stored.get("amount", 0)),
        str(stored.get("currency", "")), code="idempotency_key_reused",
        message="this idempotency key was used for another request",
    )


def _rejected(provider_ref: str, amount: Money, code: str, message: str | None = None
              ) -> ProviderResult:
    return ProviderResult("rejected", provider_ref, amount.amount, amount.currency, code=code,
                          message=message)


def _locked_charge(conn: Connection, provider_ref: str) -> Any:
    stmt = select(TestProviderCharge).where(TestProviderCharge.id == provider_ref)
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already serialises writers
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


# --- The registry -------------------------------------------------------------------------------

_providers: dict[str, PaymentProvider] = {}
_providers_lock = threading.Lock()


def register_provider(provider: PaymentProvider) -> PaymentProvider | None:
    """Make `provider` the one answering to its name; returns the one it replaced."""
    with _providers_lock:
        previous = _providers.get(provider.name)
        _providers[provider.name] = provider
        return previous


def unregister_provider(name: str) -> None:
    with _providers_lock:
        _providers.pop(name, None)


def registered_provider(name: str) -> PaymentProvider:
    with _providers_lock:
        found = _providers.get(name)
        if found is None and name == "test":
            found = _providers["test"] = TestProvider()
    if found is None:
        raise KeyError(f"no payment provider named {name!r}")
    return found
