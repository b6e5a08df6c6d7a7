"""Put-backs, hand-offs, families, staff and receipt timing on hand-built scenes."""

from __future__ import annotations

import numpy as np
import pytest
from tests.walkout.engine_scenes import Scene, items, make_store, run

PRODUCTS = [("cola", 368.0, 3.0), ("diet", 367.0, 3.0), ("water", 500.0, 4.0),
            ("chips", 160.0, 2.0)]
STOCK = {(1, 0): {"cola": 10}, (1, 1): {"diet": 10}, (1, 2): {"water": 8}, (1, 3): {"chips": 6}}


def scene() -> Scene:
    return Scene(make_store(PRODUCTS, STOCK), 40.0)


def test_a_unit_put_back_on_its_own_plate_is_not_charged() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 30.0, x=0.9)
    s.reach(1, 1, 2, 4.0, 5.2)
    s.step(1, 2, 5.0, -1000.0)
    s.reach(1, 1, 2, 12.0, 13.2)
    s.step(1, 2, 13.0, +500.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"water": 1}


def test_a_unit_left_on_the_wrong_plate_moves_in_the_inventory() -> None:
    """Cola left on the diet plate: the next unit of that weight taken there is the cola."""
    s = scene()
    s.person(1, "a1", 1.0, 20.0, x=0.2)
    s.person(2, "a2", 22.0, 38.0, x=0.6)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(1, 1, 1, 9.0, 10.2)
    s.step(1, 1, 10.0, +368.0)  # a1's cola goes onto the diet plate
    s.reach(2, 1, 1, 25.0, 26.2)
    s.step(1, 1, 26.0, -368.0)
    engine, receipts = run(s.recording())
    assert items(receipts, "a1") == {}
    assert sum(items(receipts, "a2").values()) == 1
    diet_plate = s.plate(1, 1)
    cola, diet = engine.layout.skus.index("cola"), engine.layout.skus.index("diet")
    assert engine.stock[diet_plate, diet] + engine.stock[diet_plate, cola] == 10


def test_a_unit_moved_between_plates_in_one_reach_charges_nothing() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 30.0, x=0.6)
    s.reach(1, 1, 0, 4.0, 5.1)
    s.reach(1, 1, 1, 5.2, 6.2)
    s.step(1, 0, 5.0, -368.0)
    s.step(1, 1, 6.0, +368.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {}


def test_a_handed_off_unit_put_back_by_the_receiver_comes_off_the_pickers_account() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(1, 1, 2, 6.0, 7.2)
    s.step(1, 2, 7.0, -500.0)
    s.move(1, 9.0, 1.1)  # the picker walks over and hands the cola to a2
    s.move(1, 14.0, 0.2)
    s.reach(2, 1, 3, 20.0, 21.2, hand="l")
    s.step(1, 3, 21.0, +368.0)  # a2 leaves it on the chips plate
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"water": 1}
    assert items(receipts, "a2") == {}


def test_a_put_resolved_late_is_no_hand_off_from_someone_met_only_after_it() -> None:
    # a2 leaves a cola-weight unit on the chips plate while a1, who holds a cola, is across the
    # aisle; a1 walks over only later. The put waits for a3's hand on the next plate to let go
    # and is resolved after a1 and a2 met: a meeting after the put cannot have handed its unit.
    s = scene()
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.person(3, "a3", 1.0, 36.0, x=0.9)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(3, 1, 2, 6.4, 12.2)
    s.step(1, 2, 12.0, -500.0, touch_s=5.6, hold_g=150.0)
    s.reach(2, 1, 3, 7.0, 8.2, hand="l")
    s.step(1, 3, 8.0, +368.0)
    s.move(1, 9.5, 1.1)
    s.move(1, 11.0, 0.2)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}
    assert items(receipts, "a3") == {"water": 1}


def test_a_load_rested_by_someone_met_waits_for_its_return_when_the_account_leaves() -> None:
    # a1 takes two colas; a2, who stood next to a1, leans about as much on the water plate and
    # lifts it after a1 has left. a1's exit does not turn a2's lean into a put of a1's colas.
    s = scene()
    s.person(1, "a1", 1.0, 22.0, x=0.6)
    s.person(2, "a2", 1.0, 38.0, x=1.2)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -736.0)
    s.reach(2, 1, 2, 19.6, 28.4, short_m=0.2)  # the forearm on the shelf, the wrist short of it
    s.step(1, 2, 28.0, 0.0, touch_s=8.0, hold_g=739.0, shake_g=0.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 2}
    assert items(receipts, "a2") == {}


def test_a_handed_off_unit_carried_out_by_the_receiver_is_charged_to_the_picker() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 20.0, x=0.7)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_everyone_on_a_family_account_charges_to_it_and_it_is_issued_after_the_last_exit() -> None:
    s = scene()
    s.person(1, "fam", 1.0, 20.0, x=0.2)
    s.person(2, "fam", 1.5, 30.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(2, 1, 3, 8.0, 9.2)
    s.step(1, 3, 9.0, -320.0)
    _, receipts = run(s.recording())
    assert items(receipts, "fam") == {"cola": 1, "chips": 2}
    (receipt,) = receipts
    assert receipt["exit_t"] == pytest.approx(30.0)


def test_staff_restocking_is_never_charged_and_adds_stock_that_shoppers_can_take() -> None:
    s = scene()
    s.person(9, "staff-1", 1.0, 15.0, x=1.4, role="staff")
    s.reach(9, 1, 3, 4.0, 6.2)
    s.step(1, 3, 6.0, +160.0 * 12)
    s.person(1, "a1", 16.0, 35.0, x=1.4)
    s.reach(1, 1, 3, 20.0, 21.2)
    s.step(1, 3, 21.0, -160.0)
    engine, receipts = run(s.recording())
    assert [r["account_id"] for r in receipts] == ["a1"]
    assert items(receipts, "a1") == {"chips": 1}
    chips = engine.layout.skus.index("chips")
    assert engine.stock[s.plate(1, 3), chips] == 6 + 12 - 1


def test_an_empty_visit_gets_an_empty_receipt() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 10.0, x=0.2)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {}


@pytest.mark.parametrize("chunk_s", [0.1, 0.5, 1.0])
def test_receipts_are_issued_within_a_second_of_the_last_exit(chunk_s: float) -> None:
    s = scene()
    s.person(1, "a1", 1.0, 9.0, x=0.2)
    s.person(2, "a2", 1.0, 12.35, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(2, 1, 3, 10.0, 11.2)
    s.step(1, 3, 11.0, -160.0)  # settles only just before its picker reaches the gate
    _, receipts = run(s.recording(), seconds=chunk_s)
    latency = np.array([r["emitted_t"] - r["exit_t"] for r in receipts])
    assert len(receipts) == 2
    assert (latency >= 0).all() and (latency < 1.0).all()
    assert items(receipts, "a2") == {"chips": 1}


@pytest.mark.parametrize("chunk_s", [0.1, 0.5])
def test_a_receipt_held_by_a_plate_that_never_settles_leaves_with_a_margin(chunk_s: float) -> None:
    # a1 reached into the water plate, where a2's hand still rests when a1 leaves: a1's receipt
    # waits for that plate until its deadline, which leaves a tenth of a second under the 1 s
    # limit whatever the exit's time within a chunk.
    latencies = []
    for k in range(10):
        exit_t = 9.0 + 0.047 * k
        s = scene()
        s.person(1, "a1", 1.0, exit_t, x=0.6)
        s.person(2, "a2", 1.0, 30.0, x=1.2)
        s.reach(1, 1, 2, 7.0, 7.8)
        s.reach(2, 1, 2, 7.9, 20.2)
        s.step(1, 2, 20.0, -500.0, touch_s=12.0, hold_g=120.0)
        _, receipts = run(s.recording(), seconds=chunk_s)
        (receipt,) = [r for r in receipts if r["account_id"] == "a1"]
        latencies.append(receipt["emitted_t"] - receipt["exit_t"])
    assert max(latencies) <= 0.9 + 1e-9


def test_seconds_without_any_weight_rows_are_carried_through() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 30.0, x=0.2)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(1, 1, 3, 14.0, 15.2)
    s.step(1, 3, 15.0, -160.0)
    lost = np.arange(int(8.0 * 60), int(11.5 * 60))  # 3.5 s of rows never arrive
    _, receipts = run(s.recording(drop_rows=lost), seconds=0.5)
    assert items(receipts, "a1") == {"cola": 1, "chips": 1}


def test_every_receipt_is_issued_once_and_kept_on_the_engine() -> None:
    s = scene()
    s.person(1, "a1", 1.0, 10.0, x=0.2)
    s.person(2, "a2", 1.0, 30.0, x=1.4)
    s.reach(2, 1, 3, 14.0, 15.2)
    s.step(1, 3, 15.0, -160.0)
    engine, receipts = run(s.recording())
    assert [r["account_id"] for r in receipts] == ["a1", "a2"]
    assert engine.receipts == receipts


def test_a_change_still_settling_when_the_stream_ends_is_charged_at_finish() -> None:
    s = Scene(make_store(PRODUCTS, STOCK), 10.0)
    s.person(1, "a1", 1.0, 12.0, x=0.2)
    s.reach(1, 1, 0, 9.0, 9.75)
    s.step(1, 0, 9.7, -368.0, touch_s=0.5)
    # in half-second chunks the stream ends before the receipt's deadline (in one-second
    # chunks it would be due at 13.0 s, and leaves at the last chunk's end instead)
    _, receipts = run(s.recording(), seconds=0.5)
    assert items(receipts, "a1") == {"cola": 1}


def test_a_brief_hand_touch_is_seen_at_ten_frames_a_second() -> None:
    # perception at 10 fps; two shoppers' hands meet (one held out) for two frames only
    from retailos.walkout.engine.layout import build_layout
    from retailos.walkout.engine.people import People
    from retailos.walkout.recording import Tracks

    people = People(build_layout(make_store(PRODUCTS, STOCK)))
    t = np.repeat(np.arange(10) / 10.0, 2)
    tid = np.tile([1, 2], 10)
    head = np.where(tid[:, None] == 1, [1.0, 1.0, 1.6], [1.8, 1.0, 1.6])
    lw = head + np.array([-0.25, 0.1, -0.6])
    rw = head + np.array([0.25, 0.1, -0.6])
    meet = (t >= 0.35) & (t <= 0.55)
    rw[meet & (tid == 1)] = [1.3, 1.05, 1.1]  # held out, 0.3 m from the head
    lw[meet & (tid == 2)] = [1.32, 1.05, 1.1]
    people.ingest_tracks(Tracks(t=t, track_id=tid.astype(np.int64),
                                conf=np.ones(len(t), dtype=np.float32),
                                head=head.astype(np.float32), lwrist=lw.astype(np.float32),
                                rwrist=rw.astype(np.float32)), 1.0)
    assert people.touched_hands(1, 2)
