"""Units keep the weight they were picked with: put-backs are matched to the unit put down."""

from __future__ import annotations

import numpy as np
from tests.walkout.engine_scenes import SHELF_Y, Scene, items, make_store, plate_front, run

# Two lookalikes, 6 g apart, each with a 3 g unit-to-unit spread.
PRODUCTS = [("cola", 368.0, 3.0), ("diet", 362.0, 3.0), ("chips", 160.0, 2.0)]


def test_a_put_back_lookalike_is_the_held_unit_of_its_weight() -> None:
    """The shopper holds a light cola (363 g) and a heavy diet (368 g) and leaves a 368 g
    unit on the chips plate: by the catalogue that is a cola, but the unit they hold that
    weighs 368 g is the diet."""
    stock = {(1, 0): {"cola": 10}, (1, 1): {"diet": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 30.0, x=0.6)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -363.0)
    s.reach(1, 1, 1, 8.0, 9.2)
    s.step(1, 1, 9.0, -368.0)
    s.reach(1, 1, 2, 14.0, 15.2)
    s.step(1, 2, 15.0, +368.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}


def test_a_unit_handed_over_and_put_back_comes_off_the_account_whose_unit_it_weighs() -> None:
    """a1 and a2 each take a cola (372 g and 364 g); they meet, and a2 leaves a 372 g cola on
    the chips plate: that is the unit a1 picked, so a1 pays nothing and a2 pays for theirs."""
    stock = {(1, 0): {"cola": 10}, (1, 3): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -372.0)
    s.reach(2, 1, 3, 7.0, 8.2)
    s.step(1, 3, 8.0, -364.0)
    s.move(1, 10.0, 1.1)  # a1 walks over and hands the cola to a2
    s.move(1, 14.0, 0.2)
    s.reach(2, 1, 2, 20.0, 21.2, hand="l")
    s.step(1, 2, 21.0, +372.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {}
    assert items(receipts, "a2") == {"cola": 1}


def test_a_put_back_by_someone_never_met_comes_off_their_own_account() -> None:
    """The same weights, but the two never came close: a2 can only hold their own cola."""
    stock = {(1, 0): {"cola": 10}, (1, 3): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -372.0)
    s.reach(2, 1, 3, 7.0, 8.2)
    s.step(1, 3, 8.0, -364.0)
    s.reach(2, 1, 2, 20.0, 21.2, hand="l")
    s.step(1, 2, 21.0, +372.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_spoilt_level_read_across_a_contact_cannot_outvote_the_hand_evidence() -> None:
    """A read 450 g off the change (another hand pressing in its window) costs a candidate
    about a nat, not the 2.3 a plain Gaussian would charge; a read that matches the change
    still counts for them."""
    from retailos.walkout.engine.engine import _timing_density

    delta, sd = -150.0, 155.0
    spoilt = _timing_density(300.0 - delta, sd) - _timing_density(300.0, sd)
    matching = _timing_density(-150.0 - delta, sd) - _timing_density(-150.0, sd)
    gaussian = -0.5 * ((300.0 - delta) / sd) ** 2 + 0.5 * (300.0 / sd) ** 2
    assert gaussian < -2.3
    assert -1.5 < spoilt < 0.0
    assert matching > 0.4


def test_a_shopper_reaches_for_a_product_not_for_a_unit() -> None:
    """A plate holds twelve 200 g cans and two 400 g bottles; 400 g leave it. Two cans and
    one bottle weigh the same, and the many cans do not make a can likelier to be wanted:
    one reach for one bottle is the simpler explanation."""
    products = [("can", 200.0, 2.0), ("bottle", 400.0, 2.83)]
    s = Scene(make_store(products, {(1, 0): {"can": 12, "bottle": 2}}), 30.0)
    s.person(1, "a1", 1.0, 20.0, x=0.2)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -400.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"bottle": 1}


def test_a_level_settling_a_few_grams_off_is_no_swap_between_two_hands() -> None:
    """a1 holds a cola; a1 and a2 both touch the cola plate and it settles 7 g heavier. That
    is a level read a little off, not a2 taking a cola while a1 puts theirs back."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 30.0, x=0.3)
    s.person(2, "a2", 1.0, 31.0, x=0.1)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(1, 1, 0, 12.0, 13.2)
    s.reach(2, 1, 0, 12.1, 13.3, hand="l")
    s.step(1, 0, 13.0, +7.0, hold_g=200.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_nothing_changed_tolerates_a_level_settling_a_few_grams_off() -> None:
    """8 g off on a quiet plate (0.5 g sd): unlikely, but not the 128 sds a plain Gaussian
    would make of it, so a contrived explanation of those 8 g does not win by default."""
    from retailos.walkout.engine.decide import null_scores

    exact, _ = null_scores(0.0, 0.5)
    off, _ = null_scores(8.0, 0.5)
    assert exact - 8.0 < off < exact - 3.0


def test_units_taken_in_one_reach_and_put_back_together_weigh_what_that_reach_took() -> None:
    """Two 240 g cans taken in one reach (480 g) and a 477 g bottle; 480 g left on the chips
    plate. By the catalogue two cans (487 g) are 7 g off, so the bottle read 3 g off would
    do; by what was taken it is the two cans, exactly."""
    products = [("can", 243.4, 3.0), ("bottle", 484.0, 6.0), ("chips", 160.0, 2.0)]
    stock = {(1, 0): {"can": 12}, (1, 1): {"bottle": 6}, (1, 2): {"chips": 6}}
    s = Scene(make_store(products, stock), 40.0)
    s.person(1, "a1", 1.0, 30.0, x=0.6)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -480.0)
    s.reach(1, 1, 1, 8.0, 9.2)
    s.step(1, 1, 9.0, -477.0)
    s.reach(1, 1, 2, 14.0, 15.2)
    s.step(1, 2, 15.0, +480.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"bottle": 1}


def test_two_units_handed_over_and_put_back_come_off_the_account_that_took_them() -> None:
    """a1 takes two colas in one reach (744 g), a2 two in one reach (728 g); they meet, and a2
    leaves 744 g of cola on the chips plate: a1's two, so a1 pays nothing and a2 for two."""
    stock = {(1, 0): {"cola": 10}, (1, 3): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -744.0)
    s.reach(2, 1, 3, 7.0, 8.2)
    s.step(1, 3, 8.0, -728.0)
    s.move(1, 10.0, 1.1)
    s.move(1, 14.0, 0.2)
    s.reach(2, 1, 2, 20.0, 21.2, hand="l")
    s.step(1, 2, 21.0, +744.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {}
    assert items(receipts, "a2") == {"cola": 2}


def test_a_hand_hidden_on_the_plate_keeps_it_open_until_it_lets_go() -> None:
    """The shopper's wrist is seen on the cola plate, then hidden for most of a second while
    the hand, holding two colas, still rests on it: the steady level under the resting hand
    is no settled level, and the two colas are one pick."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 20.0)
    s.person(1, "a1", 1.0, 15.0, x=0.2)
    s.reach(1, 1, 0, 4.0, 4.8)
    s.wrists_unseen(1, 4.8, 6.2)
    j = s.plate(1, 0)
    s.step(1, 0, 4.8, -736.0 + 250.0)  # the colas come up, the hand still presses
    s.load[s.times >= 5.6, j] -= 250.0  # ... and lets go
    _, receipts = run(s.recording(), seconds=0.5)
    assert items(receipts, "a1") == {"cola": 2}


def test_a_bystander_hand_close_by_does_not_share_a_multi_unit_pick() -> None:
    """a1 takes three colas; a2's hand hovers a hand's breadth off the same plate but never
    touches it: one close wrist is not enough to split the three units between them."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 20.0)
    s.person(1, "a1", 1.0, 15.0, x=0.2)
    s.person(2, "a2", 1.0, 15.0, x=0.5)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -3 * 368.0)
    hover = plate_front(s.store, 1, 0) + np.array([0.0, -0.13, 0.0])
    s._reaches.append((2, 4.2, 5.0, hover, "l"))
    _, receipts = run(s.recording(), seconds=0.5)
    assert items(receipts, "a1") == {"cola": 3}
    assert items(receipts, "a2") == {}


def test_a_receipt_held_back_by_an_open_plate_leaves_within_a_second_of_the_exit() -> None:
    """The shopper's plate is still shaking when they leave: the receipt waits for it only so
    long, and in half-second chunks it must not slip to the end of the chunk after that."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 20.0)
    s.person(1, "a1", 1.0, 10.15, x=0.2)
    s.reach(1, 1, 0, 6.0, 7.0)
    j = s.plate(1, 0)
    on = (s.times >= 6.0) & (s.times < 14.0)  # something sways on the plate for 8 s
    s.load[on, j] += 200.0 * np.sin(2 * np.pi * 0.7 * (s.times[on] - 6.0))
    _, receipts = run(s.recording(), seconds=0.5)
    (receipt,) = [r for r in receipts if r["account_id"] == "a1"]
    assert receipt["emitted_t"] - receipt["exit_t"] <= 1.0


def test_a_put_waits_for_the_take_its_hand_made_on_a_plate_still_open() -> None:
    """a1 takes chips from the top shelf while a2's hand lingers just off that plate, so it
    stays open; a1 puts the chips down on the bottom shelf before it closes. The put is
    explained once the take is known: the chips a1 put down are the chips a1 took."""
    stock = {(0, 0): {"chips": 6}, (2, 0): {"cola": 10}, (2, 3): {"diet": 10}}
    s = Scene(make_store(PRODUCTS, stock), 30.0)
    s.person(1, "a1", 1.0, 25.0, x=0.2)
    s.person(2, "a2", 1.0, 25.0, x=0.4)
    s.reach(1, 2, 0, 4.0, 5.2)
    s.step(2, 0, 5.0, -160.0)
    hover = plate_front(s.store, 2, 0) + np.array([0.0, -0.13, 0.0])
    s._reaches.append((2, 4.6, 12.0, hover, "l"))
    s.move(1, 6.0, 1.4)
    s.reach(1, 0, 3, 8.0, 9.0)
    s.step(0, 3, 8.6, +160.0)
    engine, receipts = run(s.recording(), seconds=0.5)
    assert items(receipts, "a1") == {}
    assert items(receipts, "a2") == {}
    chips = engine.layout.skus.index("chips")
    assert engine.stock[s.plate(0, 3), chips] == 1


def test_units_taken_in_one_reach_go_back_together_rather_than_as_one_lookalike() -> None:
    """a1 takes three chips in one reach (480.6 g) and one jar (480.1 g), then leaves 480.1 g
    on the chips plate. One unit is likelier a priori than three, but the three chips were
    taken together and go back together just as readily: with the chips' plate and their
    weight both fitting, those are the three chips, and a1 pays for the jar."""
    products = [*PRODUCTS, ("jar", 482.0, 4.0)]
    stock = {(1, 0): {"chips": 10}, (1, 1): {"jar": 6}}
    s = Scene(make_store(products, stock), 30.0)
    s.person(1, "a1", 1.0, 25.0, x=0.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -480.6)
    s.reach(1, 1, 1, 8.0, 9.2)
    s.step(1, 1, 9.0, -480.1)
    s.reach(1, 1, 0, 14.0, 15.2)
    s.step(1, 0, 15.0, +480.1)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"jar": 1}


def test_a_unit_put_back_where_it_was_taken_is_likelier_the_one_taken_there() -> None:
    """a1 takes a cola that stood on the chips plate (365.0 g) and a diet from its own plate
    (365.6 g), then leaves 365.6 g on the chips plate. By weight that is a shade more the
    diet, but a unit is put back where it was taken far more often than on any one other
    plate: it is the cola, and a1 pays for the diet."""
    stock = {(1, 0): {"cola": 10}, (1, 1): {"diet": 10}, (1, 2): {"chips": 6, "cola": 2}}
    planogram = {"cola": [(1, 0)], "diet": [(1, 1)], "chips": [(1, 2)]}
    s = Scene(make_store(PRODUCTS, stock, planogram=planogram), 30.0)
    s.person(1, "a1", 1.0, 25.0, x=0.6)
    s.reach(1, 1, 2, 4.0, 5.2)
    s.step(1, 2, 5.0, -365.0)
    s.reach(1, 1, 1, 8.0, 9.2)
    s.step(1, 1, 9.0, -365.6)
    s.reach(1, 1, 2, 14.0, 15.2)
    s.step(1, 2, 15.0, +365.6)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"diet": 1}


def test_a_take_and_a_put_by_two_of_one_family_in_one_change_are_both_explained() -> None:
    """Two people on one account at the chips plate: one takes a bag of chips while the other
    leaves there the cola the family took earlier. The plate gains 208 g, which no single
    product explains; a take and a put together do, and the family pays for the chips."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 30.0)
    s.person(1, "a1", 1.0, 25.0, x=0.9)
    s.person(2, "a1", 1.0, 25.0, x=0.3)
    s.reach(2, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.move(2, 8.0, 1.1)
    s.reach(1, 1, 2, 13.8, 15.0)
    s.reach(2, 1, 2, 14.0, 15.2, hand="l")
    s.step(1, 2, 14.6, -160.0 + 368.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"chips": 1}


def test_a_hand_off_passes_one_unit_not_everything_the_giver_took() -> None:
    """b's hands met a's (who took one cola) and c's (who took three together), then b leaves
    a cola on the chips plate. By weight it fits c's three a little worse than a's one; c
    holding three colas does not make one of them three times as likely to be in b's hand,
    as a hand-off passes a unit, not all the giver took. The cola is a's."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a", 1.0, 35.0, x=0.2)
    s.person(2, "b", 1.0, 35.0, x=0.6)
    s.person(3, "c", 1.0, 35.0, x=1.0)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -364.7)
    s.move(3, 6.0, 0.3)
    s.reach(3, 1, 0, 8.0, 9.2)
    s.step(1, 0, 9.0, -3 * 368.0)
    s.move(3, 10.0, 1.0)
    aisle = SHELF_Y - 0.75
    s._reaches.append((1, 12.0, 13.0, np.array([0.4, aisle, 1.0]), "r"))
    s._reaches.append((2, 12.0, 13.0, np.array([0.4, aisle, 1.0]), "l"))
    s._reaches.append((3, 15.0, 16.0, np.array([0.8, aisle, 1.0]), "l"))
    s._reaches.append((2, 15.0, 16.0, np.array([0.8, aisle, 1.0]), "r"))
    s.move(2, 18.0, 1.0)
    s.move(3, 17.0, 1.4)
    s.reach(2, 1, 2, 22.0, 23.2)
    s.step(1, 2, 23.0, +365.5)
    _, receipts = run(s.recording())
    assert items(receipts, "a") == {}
    assert items(receipts, "c") == {"cola": 3}
    assert items(receipts, "b") == {}


def test_a_hand_passing_over_the_plate_loses_to_the_hand_that_stays_on_it() -> None:
    """a2 takes a cola, their hand on the plate all through the change; a1's hand, hanging at
    their side, passes over the same plate for a moment in the middle of it. Both wrists come
    to the plate, so distance alone cannot tell them apart: the time on the plate does."""
    stock = {(0, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 20.0)
    s.person(1, "a1", 1.0, 15.0, x=0.5)
    s.person(2, "a2", 1.0, 15.0, x=0.2)
    s.reach(2, 0, 0, 4.0, 5.6)
    s.step(0, 0, 5.0, -368.0)
    s._reaches.append((1, 4.85, 4.95, plate_front(s.store, 0, 0), "l"))
    _, receipts = run(s.recording(), seconds=0.5)
    assert items(receipts, "a2") == {"cola": 1}
    assert items(receipts, "a1") == {}


def test_a_put_and_a_take_that_cancel_on_one_plate_are_both_explained() -> None:
    """a1 puts a jar back; two seconds later a2 takes one from the same plate. A basket
    leaning on the next plate keeps the shelf moving, so the plate does not settle between
    them and its settled levels show no change at all; the level between the two contacts
    shows the jar that came back, so a1 pays nothing and a2 pays for the jar."""
    products = [("jar", 500.0, 4.0), ("chips", 160.0, 2.0), ("cola", 368.0, 3.0)]
    stock = {(1, 1): {"jar": 10}, (1, 2): {"cola": 8}, (1, 0): {"chips": 6}}
    s = Scene(make_store(products, stock), 40.0)
    s.person(1, "a1", 1.0, 30.0, x=0.5)
    s.person(2, "a2", 1.0, 31.0, x=0.7)
    s.reach(1, 1, 1, 4.0, 5.2)
    s.step(1, 1, 5.0, -500.0)
    s.reach(1, 1, 1, 12.0, 13.2)
    s.step(1, 1, 13.0, +500.0)
    s.step(1, 2, 17.5, 0.0, touch_s=5.0, hold_g=200.0, shake_g=60.0)  # the basket
    s.reach(2, 1, 1, 15.2, 16.4, hand="l")
    s.step(1, 1, 16.2, -503.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {}
    assert items(receipts, "a2") == {"jar": 1}


def _a_stranger_puts_a_cola_on_the_chips() -> Scene:
    """a1 takes a cola; a2, who holds none and never comes near a1, lands 368 g on the chips
    plate."""
    stock = {(1, 0): {"cola": 10}, (1, 2): {"chips": 6}}
    s = Scene(make_store(PRODUCTS, stock), 40.0)
    s.person(1, "a1", 1.0, 35.0, x=0.2)
    s.person(2, "a2", 1.0, 36.0, x=1.4)
    s.reach(1, 1, 0, 4.0, 5.2)
    s.step(1, 0, 5.0, -368.0)
    s.reach(2, 1, 2, 20.0, 21.2, hand="l")
    s.step(1, 2, 21.0, +368.0)
    return s


def test_a_put_by_someone_who_holds_nothing_of_it_frees_no_strangers_unit() -> None:
    """a2 holds no cola and never came close to a1, yet a 368 g unit lands on the chips plate
    under a2's hand (a press on the plate read as a put, a unit brought in): whatever it was,
    it cannot be the cola a1 holds, so a1 still pays for it."""
    s = _a_stranger_puts_a_cola_on_the_chips()
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}


def test_a_unit_put_down_by_someone_who_held_none_and_taken_back_is_no_sale() -> None:
    """a2, who never met a1 and took no cola, leaves a 368 g unit on the chips plate and takes
    it back a little later (a hand pressing the plate and letting go reads just so): a2 took
    back their own unit, not one of the store's, and a1 still pays for the cola."""
    s = _a_stranger_puts_a_cola_on_the_chips()
    s.reach(2, 1, 2, 24.0, 25.2, hand="l")
    s.step(1, 2, 25.0, -368.0)
    _, receipts = run(s.recording())
    assert items(receipts, "a1") == {"cola": 1}
    assert items(receipts, "a2") == {}
