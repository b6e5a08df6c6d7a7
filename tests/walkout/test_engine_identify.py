"""Which product, how many units and whose hand: decisions on hand-built scenes."""

from __future__ import annotations

import numpy as np
from tests.walkout.engine_scenes import SHELF_Y, Scene, items, make_store, plate_front, run

from retailos.walkout.engine import Engine
from retailos.walkout.engine.signal import LoadChange
from retailos.walkout.recording import iter_chunks

# two products a gram apart: only where they stand tells them apart
TWINS = [("cola", 368.0, 3.0), ("diet", 367.0, 3.0), ("water", 500.0, 4.0), ("gum", 30.0, 1.0)]
STOCK = {(1, 0): {"cola": 10}, (1, 1): {"diet": 10}, (1, 2): {"water": 8}, (0, 0): {"gum": 40}}


def test_near_identical_weights_are_told_apart_by_the_plate_they_left() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.4)
    scene.reach(1, 1, 0, 4.0, 5.2)
    scene.step(1, 0, 5.0, -368.5)
    scene.reach(1, 1, 1, 9.0, 10.2)
    scene.step(1, 1, 10.0, -366.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1, "diet": 1}


def test_several_units_taken_at_once_are_counted() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.9)
    scene.reach(1, 1, 2, 4.0, 5.2)
    scene.step(1, 2, 5.0, -1502.0)
    scene.reach(1, 0, 0, 9.0, 10.2, hand="l")
    scene.step(0, 0, 10.0, -151.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"water": 3, "gum": 5}


def test_two_shoppers_reaching_at_once_each_pay_for_their_own_plate() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.person(2, "a2", 1.0, 26.0, x=1.0)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.reach(2, 1, 2, 4.1, 5.2, hand="l")
    scene.step(1, 0, 5.0, -368.0)
    scene.step(1, 2, 5.1, -500.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {"water": 1}


def test_a_pick_with_the_wrists_unseen_falls_back_to_where_people_stand() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.person(2, "a2", 1.0, 26.0, x=1.4)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(1, 3.5, 6.0)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_someone_behind_the_gondola_cannot_have_made_a_pick_unseen() -> None:
    # the next aisle, behind a back-to-back gondola: on the floor, right behind the plate
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2, y=SHELF_Y + 0.9)
    scene.person(2, "a2", 1.0, 26.0, x=0.3)
    scene.wrists_unseen(1, 1.0, 25.0)
    scene.reach(2, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(2, 3.5, 6.0)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a2") == {"cola": 1}
    assert items(receipts, "a1") == {}


def test_a_hand_busy_on_the_next_plate_does_not_take_this_one_too() -> None:
    # a1 takes diet with a wrist near the border of the cola plate; at the same time a2, whose
    # hands the camera cannot see, takes a cola standing right in front of it
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.7)
    scene.person(2, "a2", 1.0, 26.0, x=0.2)
    scene.reach(1, 1, 1, 4.0, 5.3, hand="l", x=0.41)
    scene.wrists_unseen(2, 3.0, 6.5)
    scene.step(1, 1, 5.0, -367.0)
    scene.step(1, 0, 5.05, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"diet": 1}
    assert items(receipts, "a2") == {"cola": 1}


def test_a_free_hand_seen_off_the_plate_does_not_clear_the_hidden_one() -> None:
    # a2 takes a cola with the right hand, which the shelf hides while it is on the plate; the
    # left hand hangs in sight. a1 stands farther back, hands out of sight all along.
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2, y=SHELF_Y - 0.8)
    scene.wrists_unseen(1, 1.0, 25.0)
    scene.person(2, "a2", 1.0, 26.0, x=0.3)
    scene.reach(2, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(2, 3.9, 5.6, hand="r")
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a2") == {"cola": 1}
    assert items(receipts, "a1") == {}


def test_a_bumped_neighbour_plate_charges_nothing() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.4)
    scene.reach(1, 1, 0, 4.0, 5.2)
    scene.step(1, 0, 5.0, -368.0)
    scene.bump(1, 1, 4.3)
    scene.bump(0, 0, 4.4, shake_g=60.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}


def test_a_hand_resting_on_the_shelf_before_the_pick_is_one_pick() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.9)
    scene.reach(1, 1, 2, 4.0, 10.1)
    scene.step(1, 2, 10.0, -500.0, touch_s=6.0, hold_g=700.0, shake_g=2.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"water": 1}


def test_two_shoppers_taking_from_one_plate_at_once_get_one_unit_each() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.6)
    scene.person(2, "a2", 1.0, 26.0, x=1.2)
    scene.reach(1, 1, 2, 4.0, 5.3)
    scene.reach(2, 1, 2, 4.2, 5.2, hand="l")
    scene.step(1, 2, 5.1, -1000.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"water": 1}
    assert items(receipts, "a2") == {"water": 1}


def test_three_shoppers_taking_from_one_plate_at_once_get_one_unit_each() -> None:
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.6)
    scene.person(2, "a2", 1.0, 26.0, x=1.2)
    scene.person(3, "a3", 1.0, 27.0, x=0.9, y=SHELF_Y - 0.35)
    scene.reach(1, 1, 2, 4.0, 5.3)
    scene.reach(2, 1, 2, 4.2, 5.2, hand="l")
    scene.reach(3, 1, 2, 4.1, 5.25)
    scene.step(1, 2, 5.1, -1500.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"water": 1}
    assert items(receipts, "a2") == {"water": 1}
    assert items(receipts, "a3") == {"water": 1}


def test_two_shoppers_taking_different_products_from_one_plate_each_pay_for_theirs() -> None:
    mixed = {(1, 0): {"cola": 10, "gum": 30}, (1, 2): {"water": 8}}
    scene = Scene(make_store(TWINS, mixed), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.0)
    scene.person(2, "a2", 1.0, 26.0, x=0.5)
    scene.reach(1, 1, 0, 4.0, 5.0)
    scene.reach(2, 1, 0, 4.6, 5.6, hand="l")
    scene.step(1, 0, 4.9, -60.0, touch_s=0.4)  # two packs of gum
    scene.step(1, 0, 5.5, -368.0, touch_s=0.4)  # a cola, before the plate could settle
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"gum": 2}
    assert items(receipts, "a2") == {"cola": 1}


def test_a_unit_misplaced_on_a_plate_is_taken_less_often_than_the_plates_own_product() -> None:
    # the tea plate also holds a soup left there by someone: a shopper reaching at the plate
    # comes for what its label shows, so a change between the two weights is a tea
    products = [("tea", 481.0, 4.3), ("soup", 486.0, 4.8)]
    stock = {(1, 3): {"tea": 4, "soup": 1}, (1, 0): {"soup": 6}}
    planogram = {"tea": [(1, 3)], "soup": [(1, 0)]}
    scene = Scene(make_store(products, stock, planogram=planogram), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=1.4)
    scene.reach(1, 1, 3, 4.0, 5.2)
    scene.step(1, 3, 5.0, -487.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"tea": 1}


def test_units_left_unseen_share_a_fixed_prior_however_large_the_catalogue() -> None:
    import numpy as np
    import pytest

    from retailos.walkout.engine.decide import STRAY_SHARE, pick_sku_prior

    for n_skus in (10, 2_000):
        stock = np.zeros(n_skus)
        stock[0] = 5
        planned = np.zeros(n_skus, dtype=bool)
        planned[:2] = True  # the second is planned there but believed gone
        prior = np.exp(pick_sku_prior(stock, planned))
        assert prior.sum() == pytest.approx(1.0)
        assert prior[2:].sum() == pytest.approx(STRAY_SHARE * prior[:2].sum())
        assert prior[0] > prior[1] > prior[2]


def test_a_swap_never_takes_and_puts_back_one_product_in_one_change() -> None:
    # a2 holds a cola; one cola leaves the cola plate while both people's hands are on it.
    # "a1 takes two colas while a2 puts one back" weighs exactly what "a1 takes one" does:
    # the weight cannot tell them apart, so the swap is not a hypothesis of its own
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.1)
    scene.person(2, "a2", 1.0, 26.0, x=0.4)
    scene.reach(2, 1, 0, 3.0, 4.2, hand="l")
    scene.step(1, 0, 4.0, -368.0)
    engine = Engine(scene.store)
    for chunk in iter_chunks(scene.recording(), 1.0):
        if chunk.t_start >= 8.0:
            break
        engine.feed(chunk)
    assert engine.carts["a2"][engine.layout.skus.index("cola")] == 1
    plate = scene.plate(1, 0)
    change = LoadChange(plate, 9.0, 10.0, 10.4, -368.0, 0.5, 5000.0)
    cands = np.flatnonzero(engine.stock[plate] > 0)
    swap = engine._pick_and_put(change, cands, [1, 2], 0, 1)
    assert swap is None or swap[1][0][2] != swap[1][1][2]
    # staff restocking the plate a shopper takes from is a real swap of one product
    engine.people.enter(8.5, 3, "staff-1", "staff")
    swap = engine._pick_and_put(change, cands, [1, 3], 0, 1)
    cola = engine.layout.skus.index("cola")
    assert swap is not None and swap[1][0][2] == swap[1][1][2] == cola


def test_a_low_confidence_wrist_read_on_the_plate_is_not_taken_at_its_word() -> None:
    """The perception layer misplaces a far shopper's wrist onto the plate for a few frames
    and says so (conf 0.1); the picker's hands are hidden in the shelf as they take."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.person(2, "a2", 1.0, 26.0, x=1.4)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(1, 3.8, 5.6)
    scene.spoilt_read(2, 4.4, 4.8, plate_front(scene.store, 1, 0), conf=0.1)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}



def test_a_hand_hidden_in_the_shelf_while_the_load_changes_beats_one_arriving_at_its_end() -> None:
    # a1 reaches into the cola plate and the shelf hides the hand for the whole of the change;
    # a2, standing at the next plate, brings a hand to the cola plate's edge only as the load
    # settles: seen on the plate for a moment, but not while most of the load was changing
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(1, 3.9, 5.6, hand="r")
    scene.person(2, "a2", 1.0, 26.0, x=0.7)
    scene.reach(2, 1, 0, 5.0, 5.3, hand="l", x=0.38)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_load_rested_on_a_plate_and_lifted_off_again_is_not_units() -> None:
    # A shopper leans on the water plate: its load rises by what two bottles weigh, holds a
    # few seconds and comes back; their hand rests at the plate's edge, a little way off the
    # plate as the camera sees it. Nothing was put down or taken.
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=1.0)
    scene.reach(1, 1, 2, 4.8, 5.2)
    scene.step(1, 2, 5.0, 1001.0, touch_s=0.3, shake_g=5.0)
    scene.reach(1, 1, 2, 10.8, 11.2)
    scene.step(1, 2, 11.0, -1001.0, touch_s=0.3, shake_g=5.0)
    engine, receipts = run(scene.recording())
    assert items(receipts, "a1") == {}
    assert engine.stock[scene.plate(1, 2)].sum() == 8


def test_a_unit_put_back_and_taken_again_is_still_taken() -> None:
    # The same rise and fall, but the shopper had taken a bottle first: putting it back and
    # taking it again is likelier than a lean of just its weight.
    scene = Scene(make_store(TWINS, STOCK), 40.0)
    scene.person(1, "a1", 1.0, 35.0, x=1.0)
    scene.reach(1, 1, 2, 4.0, 5.2)
    scene.step(1, 2, 5.0, -500.5)
    scene.reach(1, 1, 2, 11.8, 12.2)
    scene.step(1, 2, 12.0, 500.5, touch_s=0.3, shake_g=5.0)
    scene.reach(1, 1, 2, 17.8, 18.2)
    scene.step(1, 2, 18.0, -500.5, touch_s=0.3, shake_g=5.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"water": 1}


def test_a_hand_pressing_on_a_plate_before_it_takes_a_unit_is_not_part_of_the_unit() -> None:
    # The hand rests on the plate (+42 g, long enough for the plate to settle) and then lifts
    # a cola off it: the plate ends up one cola below where it was before the hand came, not
    # one juice below the pressed level.
    products = [("cola", 368.0, 3.0), ("juice", 410.0, 3.0), ("gum", 30.0, 1.0)]
    stock = {(1, 0): {"cola": 6, "juice": 6}, (0, 3): {"gum": 20}}
    scene = Scene(make_store(products, stock), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.reach(1, 1, 0, 4.8, 5.2)
    scene.step(1, 0, 5.0, 42.0, touch_s=0.3, shake_g=3.0)
    scene.reach(1, 1, 0, 7.4, 8.2)
    scene.step(1, 0, 8.0, -42.0 - 368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}


def test_someone_holding_nothing_is_unlikely_to_put_down_a_strangers_unit() -> None:
    # a1 takes a gum; a2 has taken nothing and never came near a1. That a2 puts a gum down is
    # as unlikely as a2 holding a1's unit, not as likely as a1 putting it back.
    scene = Scene(make_store(TWINS, STOCK), 20.0)
    scene.person(1, "a1", 1.0, 19.0, x=0.2)
    scene.person(2, "a2", 1.0, 19.0, x=1.4)
    scene.reach(1, 0, 0, 4.0, 5.2)
    scene.step(0, 0, 5.0, -30.2)
    engine = Engine(scene.store)
    for chunk in iter_chunks(scene.recording(), 1.0):
        engine.feed(chunk)
        if chunk.t_end >= 10.0:
            break
    assert engine.carts["a1"].sum() == 1
    gum = engine.layout.skus.index("gum")
    prior = engine._put_prior(scene.plate(1, 3), [1, 2], np.array([gum]))
    assert prior[0, 0, 1] < prior[0, 0, 0] + np.log(0.1)


def test_a_unit_put_down_with_the_hand_still_pressing_is_the_unit_alone() -> None:
    # a1 takes two juices, then puts one back with the hand still resting on the plate
    # (+80 g, long enough for the plate to settle) and lets go: one juice put back.
    products = [("cola", 368.0, 3.0), ("juice", 410.0, 3.0), ("gum", 30.0, 1.0)]
    stock = {(1, 0): {"cola": 6, "juice": 6}, (0, 3): {"gum": 20}}
    scene = Scene(make_store(products, stock), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.reach(1, 1, 0, 4.0, 5.2)
    scene.step(1, 0, 5.0, -820.0)
    scene.reach(1, 1, 0, 9.8, 10.2)
    scene.step(1, 0, 10.0, 410.0 + 80.0, touch_s=0.3, shake_g=3.0)
    scene.reach(1, 1, 0, 13.8, 14.2)
    scene.step(1, 0, 14.0, -80.0, touch_s=0.3, shake_g=3.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"juice": 1}


def test_a_wrist_read_beyond_its_own_reach_is_the_neighbours_mixed_up() -> None:
    """Two shoppers side by side, 0.7 m apart: a1 takes a unit, the shelf hiding its hand but
    for a moment. In the crowd the perception layer reports a1's wrist as a2's too, with a
    good conf: a wrist farther from a2's head than an arm reaches, which is not a2's. (A
    third shopper down the aisle, wrists never seen, makes a hidden wrist common, as in a
    crowd: a1's hidden hand alone does not tell.)"""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.2)
    scene.person(2, "a2", 1.0, 26.0, x=0.9)
    scene.person(3, "a3", 1.0, 26.0, x=2.4)
    scene.wrists_unseen(3, 1.0, 26.0)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(1, 3.8, 4.6, hand="r")
    scene.wrists_unseen(1, 4.8, 5.6, hand="r")
    scene.spoilt_read(2, 4.0, 5.3, plate_front(scene.store, 1, 0), conf=0.8)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_wrist_read_beyond_its_own_reach_but_nobody_elses_is_still_its_own() -> None:
    """a1 stretches (or leans) to a plate 0.85 m along the shelf: the wrist read is beyond
    where the engine expects an arm to reach, but no one else could have made it either; a2,
    standing back with hands out of sight, is no likelier the one who took the unit."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=1.05)
    scene.person(2, "a2", 1.0, 26.0, x=0.2, y=SHELF_Y - 0.9)
    scene.reach(1, 1, 0, 4.0, 5.3)
    scene.wrists_unseen(2, 3.0, 6.0)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_hand_on_the_border_of_two_plates_is_not_explained_away_by_a_neighbours_change() -> None:
    """a1 takes a diet cola, one hand in the plate and the other on its border with the
    water plate, where a2, beside a1, takes a water bottle at the same time (a2's hand seen
    near the border too, and short of the plate for a moment). a1's border hand looks as busy
    on the water plate as on the cola one; but a2 explains the water plate, and nobody else
    the cola plate: a1 is not charged the water, nor a2 the cola."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.6)
    scene.person(2, "a2", 1.0, 26.0, x=1.15)
    scene.reach(1, 1, 1, 4.0, 5.6, hand="r", x=0.55)
    scene.reach(1, 1, 1, 4.0, 5.6, hand="l", x=0.83)
    scene.reach(2, 1, 2, 4.0, 5.6, x=0.9)
    scene.reach(2, 1, 2, 4.6, 4.9, x=0.9, short_m=0.2)
    scene.step(1, 1, 5.0, -367.0)
    scene.step(1, 2, 5.0, -500.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"diet": 1}
    assert items(receipts, "a2") == {"water": 1}


def test_a_hand_resting_on_the_plate_through_a_pick_is_not_the_hand_that_made_it() -> None:
    """a2 stands pressed against the shelf, a hand hanging on the cola plate from long before
    the change until after it; a1's wrist comes in just before the load starts to change, is
    seen on the plate a moment, then hidden in the shelf, and is gone before the level settles.
    The hand that arrived with the change made it, not the one that was there all along."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.1)
    scene.person(2, "a2", 1.0, 26.0, x=0.3)
    scene.reach(2, 1, 0, 1.5, 6.6, hand="l", x=0.25)
    scene.reach(1, 1, 0, 4.3, 5.3, x=0.1)
    scene.wrists_unseen(1, 4.5, 5.3, hand="r")
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_hand_that_arrives_with_the_change_beats_one_resting_there_since_long_before() -> None:
    """a2's hand has rested on the cola plate for seconds; a1's comes in just before the load
    starts to change and leaves with the unit, its wrist read a little less surely (conf 0.7).
    Both are on the plate through the whole change, and the level across either contact shows
    it: when each hand arrived tells them apart."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.1)
    scene.person(2, "a2", 1.0, 26.0, x=0.3)
    scene.reach(2, 1, 0, 1.5, 6.6, hand="l", x=0.25)
    where = plate_front(scene.store, 1, 0)
    where[0] = 0.1
    scene.spoilt_read(1, 4.3, 5.3, where, conf=0.7)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


# A shelf with a light product (gum) between two heavier ones, for presses about a gum's weight
GUM_SHELF = [("cola", 368.0, 3.0), ("gum", 30.0, 2.0), ("water", 500.0, 4.0)]
GUM_STOCK = {(1, 0): {"cola": 10}, (1, 1): {"gum": 10}, (1, 2): {"water": 8}}


def _a1_takes_a_gum(scene: Scene) -> None:
    scene.reach(1, 1, 1, 4.0, 5.2)
    scene.step(1, 1, 5.0, -30.0)


def test_a_hand_resting_on_a_plate_is_no_put_and_pick_of_a_unit_it_could_weigh() -> None:
    # a1 takes a gum and stays beside a2. a2 rests a hand on the water plate for seven seconds,
    # pressing about a gum's weight; the wrist is out of sight for a moment (the plate settles
    # at the pressed level), then seen on the plate until the hand leaves and the plate comes
    # back. A unit stays on a plate after the hand has left; a press goes with the hand: no
    # gum of a1's was put down there and taken again by a2.
    scene = Scene(make_store(GUM_SHELF, GUM_STOCK), 40.0)
    scene.person(1, "a1", 1.0, 35.0, x=0.6)
    scene.person(2, "a2", 1.0, 36.0, x=1.2)
    _a1_takes_a_gum(scene)
    scene.reach(2, 1, 2, 14.8, 22.2)
    scene.wrists_unseen(2, 15.3, 17.5, hand="r")
    scene.step(1, 2, 15.0, 30.0, touch_s=0.2, shake_g=3.0)
    scene.step(1, 2, 22.0, -30.0, touch_s=0.2, shake_g=3.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"gum": 1}
    assert items(receipts, "a2") == {}


def test_a_unit_put_down_by_a_hand_that_has_left_does_not_wait_for_a_return() -> None:
    # a1 takes a gum and puts it down on the water plate, the hand seen leaving at once: the
    # hand that could still be pressing has gone, so the rise is the gum put down, at once
    # (a rise held for a possible return is resolved only later, against later carts).
    scene = Scene(make_store(GUM_SHELF, GUM_STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.6)
    _a1_takes_a_gum(scene)
    scene.reach(1, 1, 2, 9.8, 10.2)
    scene.step(1, 2, 10.0, 30.0, touch_s=0.3, shake_g=3.0)
    engine = Engine(scene.store)
    for chunk in iter_chunks(scene.recording(), 1.0):
        engine.feed(chunk)
        if chunk.t_end >= 13.0:
            break
    assert engine.carts["a1"].sum() == 0


def test_a_press_still_on_the_plate_when_its_wait_ends_waits_for_the_plate_to_close() -> None:
    # a2 rests a hand on the water plate for thirteen seconds (about a gum's weight, then a
    # little harder), and lets go just as a1 takes chips from a plate below: both plates
    # settle at the same moment. A press still moving the plate when its wait runs out is
    # read with its return, whichever plate's change is taken first; it is no gum of a1's
    # put down there and taken by a2.
    products = [*GUM_SHELF, ("chips", 80.0, 2.0)]
    scene = Scene(make_store(products, {**GUM_STOCK, (0, 0): {"chips": 10}}), 40.0)
    scene.person(1, "a1", 1.0, 35.0, x=0.6)
    scene.person(2, "a2", 1.0, 36.0, x=1.2)
    _a1_takes_a_gum(scene)
    scene.reach(2, 1, 2, 14.8, 28.2)
    scene.wrists_unseen(2, 15.3, 17.5, hand="r")
    scene.step(1, 2, 15.0, 30.0, touch_s=0.2, shake_g=3.0)
    scene.step(1, 2, 25.0, 20.0, touch_s=0.2, shake_g=3.0)
    scene.step(1, 2, 28.0, -50.0, touch_s=0.2, shake_g=3.0)
    scene.reach(1, 0, 0, 27.0, 28.2, hand="l")
    scene.step(0, 0, 28.0, -80.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"gum": 1, "chips": 1}
    assert items(receipts, "a2") == {}


def test_a_neighbour_plate_only_shaken_by_the_pick_does_not_keep_the_hand_busy() -> None:
    """a1 lifts a cola with the wrist read just over the border, on the diet plate, and the
    hand lingers there; the lift jolts the diet plate, whose load does not change. a3 leans on
    a plate further along, which keeps the diet plate from counting as settled, so it is still
    open when the cola change is explained. a2, whose wrists the camera cannot see, stands a
    plate away. a1's hand was not busy on the diet plate: a1 took the cola."""
    scene = Scene(make_store(TWINS, STOCK, plates_per_shelf=6), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.45)
    scene.person(2, "a2", 1.0, 26.0, x=0.9)
    scene.wrists_unseen(2, 1.0, 26.0)
    scene.person(3, "a3", 1.0, 26.0, x=1.8)
    scene.reach(1, 1, 0, 4.0, 5.3, x=0.46)
    scene.reach(1, 1, 1, 5.3, 6.0, x=0.5)
    scene.step(1, 0, 5.0, -368.0)
    scene.step(1, 1, 5.4, 0.0, touch_s=0.5, hold_g=40.0, shake_g=10.0)
    scene.reach(3, 1, 4, 4.0, 9.0)
    scene.step(1, 4, 9.0, 0.0, touch_s=5.0, hold_g=200.0, shake_g=0.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_hand_that_leaves_with_the_unit_beats_one_staying_on_the_plate_long_after() -> None:
    """a1 and a2 reach for the cola plate together; a1 leaves with the unit just after the load
    drops, its wrist read a little less surely (conf 0.7); a2's hand stays on the plate for
    seconds. Arrival, contact and the level across either contact cannot tell them apart: when
    each hand left does."""
    scene = Scene(make_store(TWINS, STOCK), 30.0)
    scene.person(1, "a1", 1.0, 25.0, x=0.1)
    scene.person(2, "a2", 1.0, 26.0, x=0.3)
    scene.reach(2, 1, 0, 4.3, 8.5, hand="l", x=0.25)
    where = plate_front(scene.store, 1, 0)
    where[0] = 0.1
    scene.spoilt_read(1, 4.3, 5.3, where, conf=0.7)
    scene.step(1, 0, 5.0, -368.0)
    _, receipts = run(scene.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}
