"""The test processor on its own: test cards, idempotency, limits, faults, signed events."""

from __future__ import annotations

import time

import pytest

from retailos.core.db import Database
from retailos.core.money import Money
from retailos.payments.providers import (
    SIGNATURE_HEADER,
    InvalidSignature,
    ProviderUnavailable,
    TestProvider,
    luhn_valid,
)

USD = "USD"


def ten_dollars() -> Money:
    return Money(10_00, USD)


@pytest.mark.parametrize(("card", "outcome", "code"), [
    ("4242424242424242", "approved", None),
    ("5555555555554444", "approved", None),
    ("4000000000000002", "declined", "card_declined"),
    ("4000000000009995", "declined", "insufficient_funds"),
    ("4000000000000069", "declined", "expired_card"),
    ("4000000000000119", "error", "processing_error"),
    ("4000000000003220", "pending", "authentication_required"),
    ("4242424242424241", "declined", "incorrect_number"),
])
def test_each_test_card_gets_its_outcome(
    processor: TestProvider, card: str, outcome: str, code: str | None
) -> None:
    result = processor.authorize(ten_dollars(), card, f"k-{card}")
    assert (result.outcome, result.code) == (outcome, code)
    assert result.retryable == (outcome == "error")


def test_luhn_check() -> None:
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("79927398713")  # passes Luhn, but too short for a card
    assert luhn_valid("378282246310005")  # 15-digit American Express test number
    assert not luhn_valid("4242424242424243")
    assert not luhn_valid("42424242424242a2")


def test_same_key_same_answer_and_one_charge(processor: TestProvider) -> None:
    first = processor.authorize(ten_dollars(), "4242424242424242", "k-1")
    again = processor.authorize(ten_dollars(), "4242424242424242", "k-1")
    assert again == first
    assert processor.charge_count() == 1


def test_a_capture_reports_the_processors_charge_and_a_replay_the_same(
    processor: TestProvider,
) -> None:
    auth = processor.authorize(ten_dollars(), "4242424242424242", "k-fee")
    captured = processor.capture(auth.provider_ref, ten_dollars(), "k-fee:capture")
    assert captured.fee == 29 + 30  # 2.9% of $10.00, plus 30 cents
    assert processor.capture(auth.provider_ref, ten_dollars(), "k-fee:capture") == captured
    assert processor.fee_for(Money(1, USD)) == 30  # 0.029 cents round to none
    assert processor.fee_for(Money(1_724, USD)) == 50 + 30  # 49.996 rounds up


def test_charges_are_listed_by_creation_time_with_their_reference_and_fee(
    processor: TestProvider,
) -> None:
    from datetime import timedelta

    first = processor.authorize(ten_dollars(), "4242424242424242", "k-a", reference="ten_x:grp_1")
    processor.capture(first.provider_ref, ten_dollars(), "k-a:capture")
    processor.authorize(ten_dollars(), "4242424242424242", "k-b")
    now = processor._clock.now()

    (charge, untagged) = processor.charges(now - timedelta(minutes=1), now + timedelta(seconds=1))
    assert (charge.provider_ref, charge.reference, charge.status, charge.fee) == (
        first.provider_ref, "ten_x:grp_1", "captured", 59)
    assert (untagged.reference, untagged.status, untagged.card_last4) == (
        None, "authorized", "4242")
    assert processor.charges(now + timedelta(seconds=1), now + timedelta(minutes=1)) == []


def test_key_reused_for_another_amount_is_rejected(processor: TestProvider) -> None:
    processor.authorize(ten_dollars(), "4242424242424242", "k-1")
    other = processor.authorize(Money(11_00, USD), "4242424242424242", "k-1")
    assert (other.outcome, other.code) == ("rejected", "idempotency_key_reused")
    assert processor.charge_count() == 1


def test_processing_error_is_not_stored_so_a_retry_runs_again(processor: TestProvider) -> None:
    first = processor.authorize(ten_dollars(), "4000000000000119", "k-err")
    again = processor.authorize(ten_dollars(), "4000000000000119", "k-err")
    assert first.outcome == again.outcome == "error"
    assert processor.charge_count() == 0


def test_capture_more_than_authorised_is_rejected(processor: TestProvider) -> None:
    charge = processor.authorize(ten_dollars(), "4242424242424242", "a").provider_ref
    over = processor.capture(charge, Money(10_01, USD), "c-over")
    assert (over.outcome, over.code) == ("rejected", "amount_too_large")
    ok = processor.capture(charge, Money(6_00, USD), "c")
    assert ok.outcome == "approved"
    stored = processor.charge(charge)
    assert stored is not None
    assert (stored.status, stored.captured_amount) == ("captured", 6_00)


def test_refunds_never_exceed_what_was_captured(processor: TestProvider) -> None:
    charge = processor.authorize(ten_dollars(), "4242424242424242", "a").provider_ref
    processor.capture(charge, Money(8_00, USD), "c")
    assert processor.refund(charge, Money(5_00, USD), "r1").outcome == "approved"
    over = processor.refund(charge, Money(3_01, USD), "r2")
    assert (over.outcome, over.code) == ("rejected", "amount_too_large")
    last = processor.refund(charge, Money(3_00, USD), "r3")
    assert last.outcome == "approved"
    assert last.operation_ref is not None and last.operation_ref.startswith("tpre_")
    stored = processor.charge(charge)
    assert stored is not None
    assert (stored.status, stored.refunded_amount) == ("refunded", 8_00)


def test_same_refund_key_pays_out_once(processor: TestProvider) -> None:
    charge = processor.authorize(ten_dollars(), "4242424242424242", "a").provider_ref
    processor.capture(charge, ten_dollars(), "c")
    first = processor.refund(charge, Money(4_00, USD), "r")
    again = processor.refund(charge, Money(4_00, USD), "r")
    assert again == first
    stored = processor.charge(charge)
    assert stored is not None
    assert stored.refunded_amount == 4_00


def test_void_after_capture_is_rejected(processor: TestProvider) -> None:
    charge = processor.authorize(ten_dollars(), "4242424242424242", "a").provider_ref
    processor.capture(charge, ten_dollars(), "c")
    voided = processor.void(charge, "v")
    assert (voided.outcome, voided.code) == ("rejected", "charge_already_captured")


def test_pending_charge_is_confirmed_by_a_signed_event(processor: TestProvider) -> None:
    pending = processor.authorize(ten_dollars(), "4000000000003220", "a")
    charge = processor.charge(pending.provider_ref)
    assert charge is not None and charge.status == "requires_confirmation"
    event = processor.confirm(pending.provider_ref)
    assert event["type"] == "payment.succeeded"
    assert event["id"].startswith("tpevt_")
    assert processor.confirm(pending.provider_ref) == event  # emitted once
    assert processor.events() == [event]
    body, headers = processor.signed(event)
    assert processor.parse_event(body, headers[SIGNATURE_HEADER]) == event
    with pytest.raises(InvalidSignature):
        processor.parse_event(body.replace(b"10", b"99"), headers[SIGNATURE_HEADER])
    with pytest.raises(InvalidSignature):
        TestProvider(webhook_secret="another").parse_event(body, headers[SIGNATURE_HEADER])


def outcomes(provider: TestProvider, calls: int) -> list[str]:
    seen = []
    for i in range(calls):
        try:
            seen.append(provider.authorize(ten_dollars(), "4242424242424242", f"k{i}").outcome)
        except ProviderUnavailable:
            seen.append("unavailable")
    return seen


def test_injected_failures_repeat_exactly_with_the_same_seed(db: Database) -> None:
    first = outcomes(TestProvider(failure_rate=0.3, seed=7, engine=db.engine), 40)
    # A fresh processor on the same state: keys k0..k39 are answered from storage where the
    # first run succeeded, so compare the fault pattern, which depends on the seed alone.
    second = outcomes(TestProvider(failure_rate=0.3, seed=7, engine=db.engine), 40)
    assert first == second
    assert 5 <= first.count("unavailable") <= 20
    other = outcomes(TestProvider(failure_rate=0.3, seed=8, engine=db.engine), 40)
    assert other != first


def test_lost_response_happens_after_the_charge_so_a_retry_finds_it(db: Database) -> None:
    lossy = TestProvider(response_loss_rate=1.0, engine=db.engine)
    with pytest.raises(ProviderUnavailable, match="response was lost"):
        lossy.authorize(ten_dollars(), "4242424242424242", "k")
    healthy = TestProvider(engine=db.engine)
    result = healthy.authorize(ten_dollars(), "4242424242424242", "k")
    assert result.outcome == "approved"
    assert healthy.charge_count() == 1


def test_latency_is_injected_per_request(db: Database) -> None:
    slept: list[float] = []
    provider = TestProvider(latency_seconds=0.25, engine=db.engine, sleep=slept.append)
    provider.authorize(ten_dollars(), "4242424242424242", "a")
    provider.void(provider.authorize(ten_dollars(), "4242424242424242", "b").provider_ref, "v")
    assert slept == [0.25, 0.25, 0.25]
    real = TestProvider(latency_seconds=0.05, engine=db.engine)
    start = time.perf_counter()
    real.authorize(ten_dollars(), "4242424242424242", "c")
    assert time.perf_counter() - start >= 0.05


def test_fault_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="failure_rate"):
        TestProvider(failure_rate=1.5)
    with pytest.raises(ValueError, match="latency"):
        TestProvider(latency_seconds=-1)


def test_settings_supply_the_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAILOS_PAYMENTS_TEST_LATENCY_SECONDS", "0.5")
    monkeypatch.setenv("RETAILOS_PAYMENTS_TEST_FAILURE_RATE", "0.25")
    monkeypatch.setenv("RETAILOS_PAYMENTS_TEST_SEED", "3")
    provider = TestProvider()
    assert (provider.latency_seconds, provider.failure_rate) == (0.5, 0.25)


def test_unconnected_processor_says_how_to_connect() -> None:
    with pytest.raises(RuntimeError, match="connected"):
        TestProvider().authorize(ten_dollars(), "4242424242424242", "k")
