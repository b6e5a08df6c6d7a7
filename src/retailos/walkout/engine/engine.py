"""The streaming walk-out engine: chunks of sensor data in, receipts out.

Load changes from the plates are explained (product, count, person) as they settle, carts are
kept per account, and an account's receipt is issued as soon as its last person has left and no
unresolved shelf event could still involve it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from retailos.walkout.engine.decide import (
    MAX_RESTOCK_UNITS,
    MAX_UNITS,
    MODEL_SD_G,
    NO_CHANGE_LOGPRIOR,
    CatalogueFit,
    count_logprior,
    decide,
    null_scores,
    pick_sku_prior,
    residual_loglik,
    weight_loglik,
)
from retailos.walkout.engine.layout import StoreLayout, build_layout
from retailos.walkout.engine.people import (
    LOG_BYSTANDER_DENSITY,
    MAX_CONTACT_LL,
    WRIST_SD_M,
    Account,
    Attribution,
    People,
    _half_normal,
)
from retailos.walkout.engine.signal import NEIGHBOUR_M, LoadChange, LoadChangeDetector
from retailos.walkout.recording import Chunk

DECISIONS_KEPT = 10_000
WEIGHT_FITS_KEPT = 64  # a change's catalogue fit is reused while it is being explained
RECEIPT_DEADLINE_S = 0.8  # issue a receipt this long after the exit even if events are open
RECEIPT_SLACK_S = 0.1  # ... and at the latest this long after that (0.9 s: a margin under 1 s)
PUT_WAIT_S = 5.0  # longest a put waits for picks on the same shelf to settle
SAME_GROUP_M = 1.0  # plates of one shelf closer than this can exchange a unit in one move
ATTRIBUTION_LEAD_S = 0.5  # the hand arrives a little before the load starts to change
STRAY_PUT = 0.002  # chance that a shopper puts down a unit we do not know they hold
HANDED_WEIGHT = 0.8  # their hands met: a unit handed over is the likeliest one to come back
MET_WEIGHT = 0.3  # a unit held on another account whose people met this one: could be handed
STRANGER_WEIGHT = 0.02
# Of the units a person could hold from another account they met, the share actually in
# their hands when they put one back, against their own (hand-offs are rarer than picks).
OTHERS_UNIT_SHARE = 0.3
RESTOCK_UNIT_PENALTY = 0.2
WHOLE_REACH_PUT = 0.5  # a put-back returns all the units one reach took that are still held
# A unit put back goes to the plate it was taken from about half the time; otherwise to any of
# about ten plates within reach. Relative to a unit from this plate, one from elsewhere is
# this likely to be the one put down here:
ELSEWHERE_PUT = (1 - 0.5) / 10 / 0.5
# Two hands in one multi-unit pick: the prior that a second person took part in one load change
# (a non-toucher's closest wrist distance is weighed by LOG_BYSTANDER_DENSITY, from people.py).
LOG_SECOND_PICKER_PRIOR = float(np.log(0.1))
# ... and the prior that one product's units taken in one load change went to two people
# (their hands in the plate together, or one load change over two picks in quick succession).
LOG_SHARED_PICK_PRIOR = float(np.log(0.05))
CANDIDATE_WEIGHT_GAP = 30.0  # log-likelihood behind the best weight fit: not a candidate
# Upper bound on what a product's location prior and the best hand evidence can add to its
# weight fit; a change that "nothing changed" beats by more is settled without looking further.
MAX_PRIOR_AND_TOUCH_GAIN = 5.0
NOBODY_SEEN_LOGLIK = -3.0
GAP_SETTLE_S = 0.2  # after a hand lets go, the plate rings about this long
TIMING_SD_G = 80.0  # spread of a level read around one person's contact (other hands press)
TIMING_SD_FRACTION = 0.5
TIMING_SPOILT = 0.2  # share of level reads across one contact that are spoilt
TIMING_SPOILT_LOGDENSITY = float(np.log(1 / 2000.0))  # a spoilt read: flat over about 2 kg
PAIR_MAX_UNITS = 3  # units per person considered when two people share one load change
# ... and that one person's two hands changed two plates' loads at once
LOG_BOTH_HANDS_PRIOR = float(np.log(0.1))
# A reach brings the hand to the plate just before its load starts to change (the hand's own
# press starts the change) and takes it away with the unit just after the load reached its new
# level; a hand that rests on a plate (hanging at someone's side, leaning on the shelf) is there
# for seconds before and after, whenever a load near it changes; one passing by (reaching for
# the plate next to it) stays as briefly as a reach. The toucher's hand rested there before it
# took, or stays after, with a small chance.
REACH_LEAD_S = ATTRIBUTION_LEAD_S
RESTING_S = 3.0
RESTED_BEFORE_TAKING = 0.1
RESTING_SHARE = 0.5  # of bystander hands on a plate as its load changes: the rest pass by
RECENT_S = 30.0  # load changes kept to tell which hand was busy on which plate
# A hand pressing on a plate, or a shopper leaning or resting something on it, adds a load that
# goes away again with no product moved: the plate rises, settles, and returns to its earlier
# level. A rise waits this long for such a return before it is explained as units put down.
TRANSIENT_S = 10.0
# Prior of one transient load (press, lean) against a pair of unit changes (a put, then the same
# weight taken back) on one plate, and the spread of its size: log-uniform over MIN..MAX grams.
LOG_TRANSIENT_PRIOR = float(np.log(0.1))
TRANSIENT_MIN_G, TRANSIENT_MAX_G = 5.0, 5000.0
HAND_LEFT_S = 0.3  # a hand seen nowhere near a plate for this long has left it


@dataclass(frozen=True)
class _Interval:
    plate: int
    start: float
    end: float


class Engine:
    """Feed chunks in time order; collect the receipts that `feed` and `finish` return."""

    def __init__(self, store: dict[str, Any]) -> None:
        self.layout: StoreLayout = build_layout(store)
        min_step = float(self.layout.unit_weight.min()) if self.layout.n_skus else 10.0
        lay = self.layout
        shelf_pos = np.einsum("pk,pk->p", lay.center[:, :2], lay.along)
        self.detector = LoadChangeDetector(
            lay.n_plates, lay.sample_rate_hz, min_step, lay.shelf_key, shelf_pos
        )
        self.people = People(self.layout)
        self._neighbours = _shelf_neighbours(lay.shelf_key, shelf_pos, NEIGHBOUR_M)
        self._neighbour_set = [set(n.tolist()) for n in self._neighbours]
        self.stock = self.layout.initial_stock.astype(np.int64).copy()
        self.carts: dict[str, np.ndarray] = {}
        # account -> sku -> the units it holds, one entry per reach that took them:
        # [grams the reach moved, variance of that reading, units moved, units still held,
        #  plate they came from]
        self.held_units: dict[str, dict[int, list[list[float]]]] = {}
        # (account, plate, sku) -> units its people put down there that no account they could
        # hold units of had (a press on the plate read as a put, a unit brought in): not the
        # store's, so taking them back from that plate is no sale
        self._strays: dict[tuple[str, int, int], int] = {}
        # the latest explained load changes with their runner-up margins, for diagnostics
        self.decisions: deque[dict[str, Any]] = deque(maxlen=DECISIONS_KEPT)
        self._pending_puts: list[LoadChange] = []
        # per plate: a rise held back, as it may be a transient load (see TRANSIENT_S)
        self._rises: dict[int, LoadChange] = {}
        self._rises_released: set[str] = set()  # accounts gone whose rises were let go
        # a put's attribution and location prior as just scored, for its resolution right after
        self._put_cache: tuple[LoadChange, Attribution, np.ndarray, np.ndarray] | None = None
        # per waiting put: its putters, and per open plate whether their hands were on it
        self._put_hands: dict[LoadChange, tuple[set[int], dict[tuple[int, float], bool]]] = {}
        self._waiting: dict[str, float] = {}  # account -> exit time, receipt not yet issued
        self._issued: set[str] = set()
        self.receipts: list[dict[str, Any]] = []  # every receipt issued so far, in order
        self._intervals: list[_Interval] = []
        # load changes of the last RECENT_S, for telling which hand was busy where
        self._recent: deque[LoadChange] = deque()
        self._now = 0.0
        self._weight_fits: dict[tuple[float, float, int], np.ndarray] = {}  # see _weight_fit
        self._catalogue_fits = {n: CatalogueFit(lay.unit_weight, lay.unit_sd, n)
                                for n in (MAX_UNITS, MAX_RESTOCK_UNITS)}

    # ---- stream -------------------------------------------------------------------------

    def feed(self, chunk: Chunk) -> list[dict[str, Any]]:
        """Consume one chunk; return the receipts issued while processing it.

        Each receipt is issued once; `self.receipts` holds all of them so far.
        """
        self.people.ingest_tracks(chunk.tracks, chunk.t_end)
        exits: list[tuple[float, int]] = []
        for t, event, track_id, account_id, role in self.people.gate_rows(chunk.gates):
            if event == "enter":
                self.people.enter(t, track_id, account_id, role)
                self.carts.setdefault(account_id, np.zeros(self.layout.n_skus, dtype=np.int64))
            else:
                exits.append((t, track_id))
        changes = self.detector.feed(chunk.weights, chunk.weight_times, self.people.hands_near)
        self._recent.extend(changes)
        while self._recent and self._recent[0].t_close < chunk.t_end - RECENT_S:
            self._recent.popleft()
        self._intervals = [_Interval(c.plate, c.t_start, c.t_close) for c in changes] + [
            _Interval(o.plate, o.t_start, np.inf) for o in self.detector.open_disturbances()
        ]
        timeline: list[tuple[float, int, Any]] = [(c.t_close, 0, c) for c in changes]
        timeline += [(t, 1, track_id) for t, track_id in exits]
        timeline.sort(key=lambda item: (item[0], item[1]))
        issued: list[dict[str, Any]] = []
        for t, kind, payload in timeline:
            issued += self._expire(t)
            if kind == 0:
                self._on_change(payload, t)
            else:
                acct = self.people.exit(t, payload)
                if acct is not None and acct.shopper and acct.account_id not in self._issued:
                    self._waiting[acct.account_id] = t
            self._settle_puts(t)
            issued += self._issue_ready(t)
        self._now = max(self._now, chunk.t_end)
        issued += self._expire(chunk.t_end)
        self._settle_puts(chunk.t_end)
        issued += self._issue_ready(chunk.t_end)
        # A receipt whose deadline falls inside the next chunk would leave only at that chunk's
        # end, up to a chunk late: issue it now instead.
        next_end = 2 * chunk.t_end - chunk.t_start
        issued += self._expire(next_end - RECEIPT_SLACK_S, chunk.t_end, strict=True)
        # A receipt leaves the engine when this call returns, after it has seen the whole chunk:
        # that is its stream time, even when the decision fell earlier in the chunk.
        for receipt in issued:
            receipt["emitted_t"] = max(receipt["emitted_t"], float(chunk.t_end))
        return issued

    def finish(self) -> list[dict[str, Any]]:
        """End of stream: settle what is pending and issue every remaining shopper receipt."""
        self._intervals = []
        for change in self._release_rises(np.inf):
            self._on_change(change, change.t_close, hold=False)
        for change in sorted(self._pending_puts + self.detector.flush(),
                             key=lambda c: (c.t_close, c.delta_g > 0)):
            self._resolve(change)
        self._pending_puts = []
        self._put_hands = {}
        issued: list[dict[str, Any]] = []
        for acct in self.people.accounts.values():
            if not acct.shopper or acct.account_id in self._issued:
                continue
            exit_t = acct.exit_t if acct.exit_t is not None else self._now
            issued.append(self._receipt(acct.account_id, exit_t, max(exit_t, self._now)))
        self._waiting = {}
        return issued

    # ---- events -------------------------------------------------------------------------

    def _on_change(self, change: LoadChange, t: float, hold: bool = True) -> None:
        rise = self._rises.pop(change.plate, None)
        if rise is not None:
            transient = change.delta_g < 0 and self._transient(rise, change)
            self._put_cache = None
            if transient:
                return
            self._on_change(rise, t, hold=False)
        if hold and 0 < change.delta_g <= TRANSIENT_MAX_G and self._transient(change):
            self._rises[change.plate] = change
        elif change.delta_g > 0 and self._put_blocked(change, t):
            self._pending_puts.append(change)
        else:
            self._put_hands.pop(change, None)
            self._resolve(change)
        self._put_cache = None

    def _put_blocked(self, change: LoadChange, t: float) -> bool:
        """A put waits while a plate that started moving first is still open, if that plate
        is a neighbour on its shelf or the hands on this plate were on that one too: what they
        put down may be what they took there, and the take must be known first."""
        if t - change.t_close > PUT_WAIT_S:
            return False
        lay = self.layout
        hands = self._put_hands.get(change)
        for iv in self._intervals:
            # a change closing at t may still be unresolved at t (other events at t first)
            open_then = iv.start < change.t_close and iv.start <= t <= iv.end
            if iv.plate == change.plate or not open_then:
                continue
            if lay.shelf_key[iv.plate] == lay.shelf_key[change.plate]:
                gap = np.linalg.norm(lay.center[iv.plate] - lay.center[change.plate])
                if gap <= SAME_GROUP_M:
                    return True
            if hands is None:
                hands = self._put_hands[change] = (set(self.people.contact_spans(
                    change.plate, change.t_start - ATTRIBUTION_LEAD_S, change.t_settle)), {})
            putters, seen = hands
            if not putters:
                continue
            key = (iv.plate, iv.start)
            if key not in seen:
                seen[key] = self.people.was_near(putters, iv.plate, iv.start - 1.0,
                                                 change.t_close)
            if seen[key]:
                return True
        return False

    def _release_rises(self, t: float, members: set[int] | None = None) -> list[LoadChange]:
        """Rises that waited long enough for a return (or whose putters' receipt is due):
        no longer held back. The plate may be moving again: then wait for that to close."""
        out = []
        open_plates = {iv.plate for iv in self._intervals if iv.start <= t <= iv.end}
        for p, rise in list(self._rises.items()):
            late = t - rise.t_close > TRANSIENT_S and p not in open_plates
            late |= t - rise.t_close > 2 * TRANSIENT_S
            due = members is not None and self.people.was_near(
                members, p, rise.t_start - 1.0, t)
            if late or due:
                out.append(self._rises.pop(p))
        return out

    def _with_met(self, account_id: str) -> set[int]:
        """The account's people and everyone who came close to one of them."""
        members = self.people.accounts[account_id].members
        return set(members) | {tid for tid in self.people.persons
                               if any(self.people.met(tid, m) for m in members)}

    def _transient(self, rise: LoadChange, fall: LoadChange | None = None) -> bool:
        """Did a plate rise and fall back by a transient load rather than by units put down
        and then taken? Both explanations scored as for any change (weight, location prior),
        and by whether a hand stayed on the plate from the rise to the fall (a press, a lean:
        see _hand_stayed) or left it in between (a put, then a pick). When the fall goes below
        where the plate was before the rise, the transient may also have ended in a pick (a
        hand pressed on the plate, then took a unit): that pick, from the level before the
        rise, is resolved here. Logged when a transient wins.

        Without `fall`: could it, if the plate came back exactly with a hand on it all
        along? If not, the rise need not wait for its return (a put-back of a unit the person
        holds, a restock).
        """
        if fall is None:
            fall = LoadChange(rise.plate, rise.t_close, rise.t_close, rise.t_close,
                              -rise.delta_g, rise.sd_g, rise.start_level_g + rise.delta_g)
            return self._transient_score(rise, fall, same=True)[0] > 0
        alone, then_pick, put_under = self._transient_score(rise, fall)
        best = max(alone, then_pick, put_under)
        if best <= 0:
            return False
        self.decisions.append(
            {"plate": self.layout.plate_ids[rise.plate], "t": fall.t_close,
             "delta_g": rise.delta_g, "kind": "transient", "sku": None, "count": 0,
             "track_id": None, "margin": best})
        if then_pick == best:
            self._resolve(self._from_before(rise, fall))
        elif put_under == best:
            self._on_change(self._put_under(rise, fall), fall.t_close, hold=False)
        return True

    @staticmethod
    def _put_under(rise: LoadChange, fall: LoadChange) -> LoadChange:
        """The rise without the load that the fall took off again."""
        return LoadChange(rise.plate, rise.t_start, rise.t_settle, rise.t_close,
                          rise.delta_g + fall.delta_g, float(np.hypot(rise.sd_g, fall.sd_g)),
                          rise.start_level_g)

    @staticmethod
    def _from_before(rise: LoadChange, fall: LoadChange) -> LoadChange:
        """The fall read from the plate's level before the rise."""
        return LoadChange(fall.plate, fall.t_start, fall.t_settle, fall.t_close,
                          rise.delta_g + fall.delta_g, float(np.hypot(rise.sd_g, fall.sd_g)),
                          rise.start_level_g)

    def _transient_score(self, rise: LoadChange, fall: LoadChange, same: bool = False
                         ) -> tuple[float, float, float]:  # fmt: skip
        """Log-score, minus that of units put down and then taken back, of: a transient load;
        a transient load that ended with units taken; units put down with a transient load
        (a hand still pressing) that the fall took off (`same`: the fall only as the very
        units the rise put down, a quicker bound, and only the first)."""
        # each change by its own best explanation: units, or nothing / something unexplained
        put = self._units_score(rise, settled_if_nothing=same)
        if same and put is None:
            return -np.inf, -np.inf, -np.inf  # "nothing changed" explains the rise
        rise_null = max(null_scores(rise.delta_g, rise.sd_g))
        fall_null = max(null_scores(fall.delta_g, fall.sd_g))
        if put is not None and put[0] > rise_null:
            score, sku, count = put
            self.stock[rise.plate, sku] += count
            pick = self._units_score_of(fall, sku, count) if same else self._units_score(fall)
            self.stock[rise.plate, sku] -= count
        else:
            score, pick = rise_null, self._units_score(fall)
        units = score + max(pick[0] if pick is not None else -np.inf, fall_null)
        # a press (a lean) lasts while the hand (the body) stays on the plate
        stayed = self._hand_stayed(rise, fall, same)
        transient = _transient_logprior(rise.delta_g) + stayed
        var = rise.sd_g**2 + fall.sd_g**2 + 2 * MODEL_SD_G**2
        back = float(residual_loglik(np.array([rise.delta_g + fall.delta_g]), np.array([var]),
                                     np.array([rise.delta_g]))[0])
        then_pick = put_under = -np.inf
        if not same and rise.delta_g + fall.delta_g < 0:
            taken = self._units_score(self._from_before(rise, fall))
            if taken is not None:
                then_pick = transient + taken[0]
        elif not same and rise.delta_g + fall.delta_g > 0:
            under = self._units_score(self._put_under(rise, fall))
            if under is not None:
                put_under = _transient_logprior(-fall.delta_g) + stayed + under[0]
        return (float(transient + back - units), float(then_pick - units),
                float(put_under - units))

    def _hand_stayed(self, rise: LoadChange, fall: LoadChange, same: bool = False) -> float:
        """Log-likelihood ratio, a hand on the plate from the rise to the fall against one
        that left in between: a press lasts as long as the hand presses, while a unit put down
        stays after the hand has left (and a hand comes back for the pick). Read as the contact
        of the hand likeliest to have stayed, over the span between the rise settling and the
        fall starting. `same` (the fall not seen yet): as the span would say at best if a
        hand may still be on the plate as the rise closes; if none can be, as it says so far."""
        t0, t1 = rise.t_settle, fall.t_start
        if t1 <= t0:
            return 0.0
        att = self.people.attribute(rise.plate, t0, t1, core=(t0, t1))
        if att.contact is None or len(att.contact) == 0:
            return 0.0
        if same and self.people.was_near(set(att.track_ids.tolist()), rise.plate,
                                         rise.t_close - HAND_LEFT_S, rise.t_close):
            return MAX_CONTACT_LL
        return float(att.contact.max())

    def _units_score_of(self, change: LoadChange, sku: int, count: int
                        ) -> tuple[float, int, int] | None:  # fmt: skip
        """As _units_score for a pick, of `count` units of `sku` only."""
        lay = self.layout
        if count > MAX_UNITS:
            return None
        weight = weight_loglik(change.delta_g, change.sd_g, lay.unit_weight[sku:sku + 1],
                               lay.unit_sd[sku:sku + 1], count)[0, count - 1]
        prior = pick_sku_prior(self.stock[change.plate], lay.planogram[change.plate])[sku]
        return float(weight + prior + count_logprior(count)[count - 1]), sku, count

    def _units_score(self, change: LoadChange, settled_if_nothing: bool = False
                     ) -> tuple[float, int, int] | None:  # fmt: skip
        """Best (weight + location prior) of units of one product explaining the change, with
        that sku and count (None in a store without products; with `settled_if_nothing`, also
        None where "nothing changed" is beyond any product's reach, as in _resolve)."""
        lay = self.layout
        if lay.n_skus == 0:
            return None
        p = change.plate
        pick = change.delta_g < 0
        weight = self._weight_fit(change)
        if settled_if_nothing and null_scores(change.delta_g, change.sd_g)[0] >= float(
                weight.max()) + MAX_PRIOR_AND_TOUCH_GAIN:
            return None
        best_by_sku = weight.max(axis=1)
        skus = np.flatnonzero(best_by_sku >= best_by_sku.max() - CANDIDATE_WEIGHT_GAP)
        if pick:
            prior = pick_sku_prior(self.stock[p], lay.planogram[p])[skus, None, None]
            prior = prior + count_logprior(MAX_UNITS)[None, :, None]
        else:
            att = self.people.attribute(p, change.t_start - ATTRIBUTION_LEAD_S,
                                        min(change.t_settle + 0.3, change.t_close),
                                        core=self._core(change))
            prior = self._put_prior(p, att.track_ids.tolist(), skus, change)
            self._put_cache = (change, att, skus, prior)
        total = weight[skus][:, :, None] + prior
        s, n, _ = np.unravel_index(int(np.argmax(total)), total.shape)
        return float(total[s, n].max()), int(skus[s]), int(n) + 1

    def _settle_puts(self, t: float) -> None:
        for rise in self._release_rises(t):
            self._on_change(rise, t, hold=False)
        waiting = []
        for change in self._pending_puts:
            if self._put_blocked(change, t):
                waiting.append(change)
            else:
                self._put_hands.pop(change, None)
                self._resolve(change)
        self._pending_puts = waiting

    def _split_at_gaps(self, change: LoadChange) -> list[LoadChange]:
        """Cut a change into the parts made by separate hand contacts.

        Two people taking turns at a plate (or one person picking, then putting back) often
        leave it no time to settle in between; where the tracks show a hand-free span, the
        plate's level there is read from the block history and each part is explained alone.
        """
        gaps = self.people.contact_gaps(
            self._neighbours[change.plate], change.t_start - ATTRIBUTION_LEAD_S,
            change.t_settle + 0.2,
        )
        if not gaps:
            return [change]
        levels, cuts = [], []
        for g0, g1 in gaps:
            t, x = self.detector.block_history(change.plate, g0 + GAP_SETTLE_S, g1)
            x = x[~np.isnan(x)]
            if len(x) == 0:
                continue
            levels.append((float(np.median(x)), float(np.ptp(x)) / 2))
            cuts.append((g0, g1))
        if not cuts:
            return [change]
        parts = []
        before, start = change.start_level_g, change.t_start
        for (level, spread), (g0, g1) in zip(levels, cuts, strict=True):
            sd = float(np.hypot(change.sd_g, spread))
            parts.append(LoadChange(change.plate, start, g0, min(g0 + 0.3, change.t_close),
                                    level - before, sd, before))
            before, start = level, g1 - ATTRIBUTION_LEAD_S
        end_level = change.start_level_g + change.delta_g
        last_sd = float(np.hypot(change.sd_g, levels[-1][1]))
        parts.append(LoadChange(change.plate, start, change.t_settle, change.t_close,
                                end_level - before, last_sd, before))
        return parts

    def _resolve(self, change: LoadChange, whole: bool = True) -> None:
        """Explain one load change with the MAP hypothesis and apply it to stock and carts."""
        lay = self.layout
        if lay.n_skus == 0:
            return  # a store without a catalogue: nothing a change could be
        p = change.plate
        t1 = min(change.t_settle + 0.3, change.t_close)
        null = null_scores(change.delta_g, change.sd_g)
        pick = change.delta_g < 0
        weight = self._weight_fit(change)
        if null[0] >= float(weight.max()) + MAX_PRIOR_AND_TOUCH_GAIN:
            # No product can beat "nothing changed" (a bump, a touch): skip the people, unless
            # the level in a hand-free span after the plate started moving says otherwise: a
            # put and a take that cancel in the settled levels (one unit back, one taken by
            # someone else, the plate kept from settling between them) each moved the plate.
            if whole:
                parts = self._split_at_gaps(change)
                if any(part.t_settle > change.t_start and self._units_fit_better(part)
                       for part in parts[:-1]):
                    for part in parts:
                        self._resolve(part, whole=False)
                    return
            self.decisions.append(
                {"plate": lay.plate_ids[p], "t": change.t_close, "delta_g": change.delta_g,
                 "kind": "no-change", "sku": None, "count": 0, "track_id": None, "margin": None}
            )
            return
        if whole:
            parts = self._split_at_gaps(change)
            if len(parts) > 1:
                for part in parts:
                    self._resolve(part, whole=False)
                return
        # a put scored while it waited keeps that attribution (which learnt no hidden-wrist rate:
        # picks, the most changes by far, teach it)
        cached = self._put_cache if self._put_cache and self._put_cache[0] is change else None
        self._put_cache = None
        att = cached[1] if cached is not None else self.people.attribute(
            p, change.t_start - ATTRIBUTION_LEAD_S, t1, core=self._core(change), learn=True)
        who_ll = self._touch_loglik(att.loglik) + self._timing_loglik(change, att)
        if att.contact is not None:
            who_ll = who_ll + att.contact
        who_ll = self._busy_elsewhere(change, att, who_ll)
        tids = att.track_ids.tolist()
        best_by_sku = weight.max(axis=1)
        skus = np.flatnonzero(best_by_sku >= best_by_sku.max() - CANDIDATE_WEIGHT_GAP)
        weight = weight[skus]
        if pick:
            prior = pick_sku_prior(self.stock[p], lay.planogram[p])[skus, None, None]
            prior = prior + count_logprior(MAX_UNITS)[None, :, None]
        else:
            if cached is not None and np.array_equal(cached[2], skus):
                prior = cached[3]
            else:
                prior = self._put_prior(p, tids, skus, change)
        d = decide(weight, prior, who_ll, null)
        sku = int(skus[d.sku]) if d.sku >= 0 else -1
        person = d.person if d.person < len(tids) else -1
        tid = tids[person] if person >= 0 else None
        self.decisions.append(
            {"plate": lay.plate_ids[p], "t": change.t_close, "delta_g": change.delta_g,
             "kind": d.kind, "sku": lay.skus[sku] if sku >= 0 else None, "count": d.count,
             "track_id": tid, "margin": d.margin}
        )
        pair = self._two_hands(change, att.loglik, att.evidence, tids, d.logpost)
        if pair is not None:
            self.decisions[-1].update(kind="two-hands", pair=[
                (kind, tid_, lay.skus[s_], n_) for kind, tid_, s_, n_ in pair])
            for kind, tid_, s_, n_ in pair:
                if kind == "pick":
                    self._apply_pick(p, s_, n_, tid_)
                else:
                    self._apply_put(p, s_, n_, tid_, by=change.t_start)
            return
        if d.kind != "units":
            return
        reading = (abs(change.delta_g), change.sd_g**2 + MODEL_SD_G**2)
        if pick:
            for share_tid, share in self._pickers(att.loglik, att.evidence, tids, person,
                                                  d.count):
                frac = share / d.count
                self._apply_pick(p, sku, share, share_tid,
                                 (reading[0] * frac, reading[1] * frac**2))
        else:
            self._apply_put(p, sku, d.count, tid, reading, change.t_start)

    def _core(self, change: LoadChange) -> tuple[float, float]:
        """The span in which the plate's load was changing, when the toucher's hand was on it:
        from the change's start until its level reached the new one (the plate may count as
        settled only later, once every hand near it has left)."""
        level = change.start_level_g + change.delta_g
        return change.t_start, self.detector.reached(change.plate, change.t_start,
                                                     change.t_settle, level)

    def _halfway(self, change: LoadChange) -> float:
        """When the plate's load first crossed halfway to its new level: the units came off (or
        were set down) then, whatever the plate rang like after (t_settle if it never did)."""
        t, x = self.detector.block_history(change.plate, change.t_start, change.t_settle)
        with np.errstate(invalid="ignore"):
            crossed = np.flatnonzero(np.sign(change.delta_g) * (
                x - change.start_level_g) >= 0.5 * abs(change.delta_g))
        return float(t[crossed[0]]) if len(crossed) else change.t_settle

    def _weight_fit(self, change: LoadChange) -> np.ndarray:
        """weight_loglik of the change against the whole catalogue, [S, N]: N = MAX_UNITS for
        a pick, MAX_RESTOCK_UNITS for a put. One change is often scored more than once (a rise
        held as a possible transient is scored, then resolved), so the latest fits are kept,
        read-only."""
        max_units = MAX_UNITS if change.delta_g < 0 else MAX_RESTOCK_UNITS
        key = (change.delta_g, change.sd_g, max_units)
        fit = self._weight_fits.get(key)
        if fit is None:
            if len(self._weight_fits) >= WEIGHT_FITS_KEPT:
                self._weight_fits.clear()
            fit = self._catalogue_fits[max_units].loglik(change.delta_g, change.sd_g)
            fit.flags.writeable = False
            self._weight_fits[key] = fit
        return fit

    def _units_fit_better(self, change: LoadChange) -> bool:
        """Do some units of a product fit the change better than "nothing changed"?"""
        weight = self._weight_fit(change)
        nothing = null_scores(change.delta_g, change.sd_g)[0] - NO_CHANGE_LOGPRIOR
        return float(weight.max()) > nothing

    def _two_hands(
        self, change: LoadChange, loglik: np.ndarray, evidence: list[str], tids: list[int],
        single_logpost: float,
    ) -> list[tuple[str, int, int, int]] | None:
        """Two people both changed the plate within one load change: each took a different
        product, or one took something while the other put something back (on one account
        too: a put and a take in one change net out to a weight no single product explains).
        Scored like the single-person hypotheses: the weight of both parts, each part's
        location prior (what is on the plate; what the person holds), both people's hand
        evidence and the prior against a second person. Returns [(kind, track, sku, count)] if
        that beats the best single explanation.
        """
        lay = self.layout
        gain = loglik - LOG_BYSTANDER_DENSITY
        strong = [i for i in np.argsort(-gain).tolist()
                  if gain[i] > 0 and evidence[i] in ("wrist", "wrist+head")]
        if len(strong) < 2:
            return None
        a, b = strong[0], strong[1]
        pa, pb = self.people.persons.get(tids[a]), self.people.persons.get(tids[b])
        if pa is None or pb is None:
            return None
        p = change.plate
        cands = np.flatnonzero((self.stock[p] > 0) | lay.planogram[p])
        if len(cands) == 0 or len(cands) > 12:
            return None
        k = len(loglik)
        touch = gain[a] + gain[b] - np.log(k * (k - 1)) + LOG_SECOND_PICKER_PRIOR
        options: list[tuple[float, list[tuple[str, int, int, int]]]] = []
        picks = self._two_picks(change, cands, tids, a, b)
        if picks is not None:
            options.append((picks[0] + touch, picks[1]))
        for taker, giver in ((a, b), (b, a)):
            swap = self._pick_and_put(change, cands, tids, taker, giver)
            if swap is not None:
                options.append((swap[0] + touch, swap[1]))
        if not options:
            return None
        best, actions = max(options, key=lambda option: option[0])
        return actions if best > single_logpost else None

    def _pick_and_put(
        self, change: LoadChange, cands: np.ndarray, tids: list[int], taker: int, giver: int
    ) -> tuple[float, list[tuple[str, int, int, int]]] | None:
        """Best log-score of `taker` picking n1 of a plate product while `giver` puts back n2
        of something they hold."""
        lay = self.layout
        p = change.plate
        held = np.zeros(lay.n_skus, dtype=bool)
        for account, cart in self.carts.items():
            if account not in self._issued:
                held |= cart > 0
        puts = np.flatnonzero(held)
        if len(puts) == 0:
            return None
        n = np.arange(1, PAIR_MAX_UNITS + 1)
        pick_lp = pick_sku_prior(self.stock[p], lay.planogram[p])[cands]
        put_lp = self._put_prior(p, [tids[giver]], puts)[:, :PAIR_MAX_UNITS, 0]
        count_lp = count_logprior(PAIR_MAX_UNITS)
        w1, sd1 = lay.unit_weight[cands], lay.unit_sd[cands]
        w2, sd2 = lay.unit_weight[puts], lay.unit_sd[puts]
        # grid [s1, n1, s2, n2]: the plate loses n1 * w1 and gains n2 * w2
        mean = (-n[None, :, None, None] * w1[:, None, None, None]
                + n[None, None, None, :] * w2[None, None, :, None])
        var = (n[None, :, None, None] * sd1[:, None, None, None] ** 2
               + n[None, None, None, :] * sd2[None, None, :, None] ** 2
               + change.sd_g**2 + MODEL_SD_G**2)
        r = change.delta_g - mean
        score = (residual_loglik(r, var, mean)
                 + pick_lp[:, None, None, None] + count_lp[None, :, None, None]
                 + put_lp[None, None, :, :])
        # a shopper putting back the product another takes nets out to fewer units taken,
        # which the weight cannot tell apart from a plain pick: that is a pick, not a swap
        # (staff restocking a plate while a shopper takes from it is another matter)
        giver_person = self.people.persons.get(tids[giver])
        if giver_person is not None and giver_person.role == "shopper":
            same_pick, same_put = np.nonzero(cands[:, None] == puts[None, :])
            score[same_pick, :, same_put, :] = -np.inf
        flat = int(np.argmax(score))
        if not np.isfinite(score.ravel()[flat]):
            return None
        i1, j1, i2, j2 = np.unravel_index(flat, score.shape)
        return float(score.ravel()[flat]), [
            ("pick", tids[taker], int(cands[i1]), int(j1) + 1),
            ("put", tids[giver], int(puts[i2]), int(j2) + 1),
        ]

    def _two_picks(
        self, change: LoadChange, cands: np.ndarray, tids: list[int], a: int, b: int
    ) -> tuple[float, list[tuple[str, int, int, int]]] | None:
        """Best log-score of a and b each taking units of a different plate product; who took
        which is read from the plate's level after the first of them let go."""
        lay = self.layout
        p = change.plate
        if change.delta_g >= 0 or len(cands) < 2:
            return None
        prior = pick_sku_prior(self.stock[p], lay.planogram[p])[cands]
        n = np.arange(1, PAIR_MAX_UNITS + 1)
        w, sd = lay.unit_weight[cands], lay.unit_sd[cands]
        # grid [s1, n1, s2, n2]
        mean = (n[None, :, None, None] * w[:, None, None, None]
                + n[None, None, None, :] * w[None, None, :, None])
        var = (n[None, :, None, None] * sd[:, None, None, None] ** 2
               + n[None, None, None, :] * sd[None, None, :, None] ** 2
               + change.sd_g**2 + MODEL_SD_G**2)
        r = abs(change.delta_g) - mean
        count_lp = count_logprior(PAIR_MAX_UNITS)
        score = (residual_loglik(r, var, mean)
                 + prior[:, None, None, None] + prior[None, None, :, None]
                 + count_lp[None, :, None, None] + count_lp[None, None, None, :])
        same = np.arange(len(cands))
        score[same, :, same, :] = -np.inf  # one product shared by two: _pickers handles it
        flat = int(np.argmax(score))
        best = float(score.ravel()[flat])
        i1, j1, i2, j2 = np.unravel_index(flat, score.shape)
        first = (int(cands[i1]), int(j1) + 1)
        second = (int(cands[i2]), int(j2) + 1)
        # whoever let go first: the level right after tells how much they took
        spans = self.people.contact_spans(p, change.t_start - ATTRIBUTION_LEAD_S, change.t_settle)
        ta = spans[tids[a]][1] if tids[a] in spans else None
        tb = spans[tids[b]][1] if tids[b] in spans else None
        order = [a, b]
        if ta is not None and tb is not None:
            early, late = (a, b) if ta <= tb else (b, a)
            t_early, t_late = min(ta, tb), max(ta, tb)
            _, x = self.detector.block_history(p, t_early + GAP_SETTLE_S, t_late)
            x = x[~np.isnan(x)]
            if len(x):
                took = change.start_level_g - float(np.median(x))
                fit_first = abs(took - first[1] * lay.unit_weight[first[0]])
                fit_second = abs(took - second[1] * lay.unit_weight[second[0]])
                order = [early, late] if fit_first <= fit_second else [late, early]
        return best, [("pick", tids[order[0]], *first), ("pick", tids[order[1]], *second)]

    def _timing_loglik(self, change: LoadChange, att: Attribution) -> np.ndarray:
        """When several hands were on the plate: how well the change of the plate's level
        across each person's own contact explains the load change, against no change, and how
        well the times their hand arrived and left explain when the load started to change and
        when it reached its new level.

        The level is read just before their hand arrived and just after it left; the person
        whose contact the change happened in sees (about) the whole change across it. A hand
        resting on the plate sees the change across its contact too, but it came long before
        and stays long after.
        """
        out = np.zeros(max(len(att.track_ids), 1))
        gain = att.loglik - LOG_BYSTANDER_DENSITY
        if int((gain > 0).sum()) < 2:
            return out[: len(att.track_ids)] if len(att.track_ids) else out
        p = change.plate
        spans = self.people.contact_spans(p, change.t_start - ATTRIBUTION_LEAD_S, change.t_settle)
        arrived = self.people.arrivals(p, change.t_start)
        # every hand near the plate has left it by the time its new level is confirmed
        moved = self._halfway(change)
        left = self.people.departures(p, change.t_start, change.t_close)
        # a hand that took a unit just before may stay for the next: it arrives anew for it
        last_end = max((c.t_settle for c in self._recent
                        if c.plate == p and c.t_settle <= change.t_start), default=-np.inf)
        sd = TIMING_SD_G + TIMING_SD_FRACTION * abs(change.delta_g)
        for k, tid in enumerate(att.track_ids.tolist()):
            if gain[k] <= 0:
                continue
            if tid in arrived:
                a, b = (max(x, last_end) for x in arrived[tid])
                out[k] += _lead_loglik(change.t_start - b, change.t_start - a)
            if tid in left:
                a, b = left[tid]
                # a hand seen leaving a moment before the load moved (the camera's and the
                # plate's clocks differ a little) left with it
                out[k] += _lead_loglik(max(a - moved, 0.0), max(b - moved, 0.0))
            if tid not in spans:
                continue
            c0, c1 = spans[tid]
            _, before = self.detector.block_history(p, c0 - 0.6, c0 - 0.1)
            _, after = self.detector.block_history(p, c1 + GAP_SETTLE_S, min(c1 + 0.7,
                                                                             change.t_close))
            before, after = before[~np.isnan(before)], after[~np.isnan(after)]
            if len(before) == 0 or len(after) == 0:
                continue
            seen = float(np.median(after) - np.median(before))
            out[k] += _timing_density(seen - change.delta_g, sd) - _timing_density(seen, sd)
        return out

    def _busy_elsewhere(self, change: LoadChange, att: Attribution, who_ll: np.ndarray
                        ) -> np.ndarray:  # fmt: skip
        """Explain away a hand that was on a neighbouring plate whose load changed meanwhile.

        A seen wrist near the border of two plates is close to both. If the other plate's load
        changed in the same span and this person's hand is the best explanation there, and
        that hand on the other plate, with whoever else best explains this one, explains both
        changes better than the hand here with whoever else best explains that one, the hand
        was busy there: for this change it counts only by how much nearer this plate it came
        than that one, or by the person's other hand (seen on this plate, or out of sight: then
        by where they stood).
        """
        if att.hand_d is None or att.head_ll is None or att.contact is None:
            return who_ll
        p = change.plate
        step = 0.5 * self.detector.min_step_g
        rivals = [(c.plate, c.t_start, c.t_settle, c.t_close) for c in self._recent
                  if c.plate != p and c.t_start < change.t_settle and c.t_settle > change.t_start
                  and abs(c.delta_g) >= step]
        # a plate still open only because this one shook it reads where it started: no hand
        # changed its load
        rivals += [(o.plate, o.start, self._now, self._now) for o in self._intervals
                   if o.end == np.inf and o.plate != p and o.start < change.t_settle
                   and abs(self.detector.change_so_far(o.plate)) >= step]
        rivals = [r for r in rivals if r[0] in self._neighbour_set[p]]
        if not rivals:
            return who_ll
        tids = att.track_ids.tolist()
        out = who_ll.copy()
        for q, q0, q_settle, q_close in rivals:
            other = self.people.attribute(q, q0 - ATTRIBUTION_LEAD_S,
                                          min(q_settle + 0.3, q_close), core=(q0, q_settle))
            if len(other.track_ids) == 0 or other.hand_d is None or other.contact is None:
                continue
            best = int(np.argmax(other.loglik + other.contact))
            tid = int(other.track_ids[best])
            if tid not in tids:
                continue
            k = tids.index(tid)
            hand = int(np.argmin(other.hand_d[best]))
            on_q = float(_half_normal(other.hand_d[best, hand], WRIST_SD_M)) + float(
                other.contact[best])
            on_p = float(_half_normal(att.hand_d[k, hand], WRIST_SD_M)) + float(att.contact[k])
            # one hand, two plates: it was on the one where, with whoever else explains the
            # other plate best (at worst a bystander), both changes are likelier explained
            alt_p = _best_other(att.loglik + att.contact, k)
            alt_q = _best_other(other.loglik + other.contact, best)
            if not on_q + alt_p > on_p + alt_q:
                continue
            # relative to a bystander: the shared hand by how much nearer it came to this plate
            # than to that one, the free hand by its own distance, or by the head if unseen
            free = float(att.hand_d[k, 1 - hand])
            gain = max(on_p - on_q, LOG_BOTH_HANDS_PRIOR - LOG_BYSTANDER_DENSITY + max(
                float(_half_normal(free, WRIST_SD_M)), float(att.head_ll[k])))
            before = float(att.loglik[k]) - LOG_BYSTANDER_DENSITY + float(att.contact[k])
            out[k] = min(out[k], who_ll[k] + gain - before)
        return out

    @staticmethod
    def _touch_loglik(loglik: np.ndarray) -> np.ndarray:
        """Log-likelihood of the hand evidence if candidate k (chosen a priori uniformly) made
        the change, relative to nobody touching the plate: so a change that no hand came near
        stays unexplained rather than charged to whoever stood closest."""
        if len(loglik) == 0:
            return np.array([NOBODY_SEEN_LOGLIK])
        return loglik - LOG_BYSTANDER_DENSITY - np.log(len(loglik))

    @staticmethod
    def _pickers(
        loglik: np.ndarray, evidence: list[str], tids: list[int], best: int, count: int
    ) -> list[tuple[int | None, int]]:
        """Who gets the units of a pick: the best candidate, or the best few sharing them.

        Another person shares a multi-unit pick when their wrist evidence is better explained
        by touching the plate than by standing by, by more than the prior against one more
        picker; at most one person per unit (three shoppers can each take one from a plate at
        once). The units are shared out evenly, the best candidates first.
        """
        if best < 0:
            return [(None, count)]
        if count < 2 or len(tids) < 2:
            return [(tids[best], count)]
        sharers = [best]
        for i in np.argsort(-loglik).tolist():
            if i == best or len(sharers) == count:
                continue
            gain = float(loglik[i]) - LOG_BYSTANDER_DENSITY + LOG_SHARED_PICK_PRIOR
            if evidence[i] not in ("wrist", "wrist+head") or gain <= 0:
                break
            sharers.append(i)
        base, extra = divmod(count, len(sharers))
        return [(tids[i], base + (1 if rank < extra else 0)) for rank, i in enumerate(sharers)]

    def _group_fit(self, sku: int, group: list[float] | np.ndarray, m: float,
                   grams: float, noise: float) -> np.ndarray:
        """Log density of `grams` put down as m units of one earlier reach's group
        [grams taken, reading variance, units taken, units held, plate]: m of the n units share
        m/n of the group's grams, give or take how unevenly units weigh."""
        g = np.atleast_2d(np.asarray(group, dtype=np.float64))
        total, var, n = g[:, 0], g[:, 1], g[:, 2]
        sd = float(self.layout.unit_sd[sku])
        mean = m * total / n
        spread = sd**2 * m * (n - m) / n + (m / n) ** 2 * var + noise
        return residual_loglik(grams - mean, spread, mean)

    def _put_prior(
        self, plate: int, tids: list[int], skus: np.ndarray, change: LoadChange | None = None
    ) -> np.ndarray:
        """Log prior [len(skus), N, K] over what each candidate put down.

        With `change`, a single unit's weight term is also corrected from the catalogue's
        spread to the units this person may hold: each unit was weighed when it was picked,
        and a unit put back weighs what it weighed then.
        """
        lay = self.layout
        by = change.t_start if change is not None else np.inf
        n_units = np.arange(1, MAX_RESTOCK_UNITS + 1)
        planned = lay.planogram[plate, skus].astype(np.float64)
        restock = lay.planogram[plate] + (self.stock[plate] > 0) + 0.01
        restock_lp = np.log(restock[skus] / restock.sum())
        accounts = [a for a, cart in self.carts.items() if a not in self._issued and cart.any()]
        carts = (
            np.stack([self.carts[a] for a in accounts]).astype(np.float64)
            if accounts else np.zeros((0, lay.n_skus))
        )
        table = self._held_table(accounts)
        columns = []
        for tid in tids or [-1]:
            person = self.people.persons.get(tid)
            if person is None or person.role != "shopper":
                lp = restock_lp[:, None] - RESTOCK_UNIT_PENALTY * (n_units[None, :] - 1)
            else:
                holding = self._holding_weights(person.account_id, tid, accounts, by)
                # per unit: all of their own account's units may be in their hands, but a
                # hand-off passes a unit or so, not everything another account took
                mine = np.array([a == person.account_id for a in accounts], dtype=bool)
                per_unit = holding * np.where(mine, 1.0, 1.0 / np.maximum(carts.sum(axis=1), 1.0))
                weighted = (per_unit @ carts) * self._origin_factor(plate, table, per_unit)
                total = weighted.sum()
                # the units they may hold, counted: a person who is unlikely to hold any unit
                # (only strangers' units, barely) is unlikely to be putting one down
                known = weighted[skus] / max(total, 1.0)
                sku_lp = np.log((1 - STRAY_PUT) * known + STRAY_PUT / lay.n_skus)
                sku_lp += np.log1p(planned)
                held = carts[:, skus].sum(axis=0)
                over = np.maximum(n_units[None, :] - np.maximum(held, 1)[:, None], 0)
                lp = sku_lp[:, None] + self._put_count_logprior(plate, skus, table, holding,
                                                                per_unit)
                lp -= 3.0 * over
                if change is not None:
                    fit = self._held_unit_loglik(change, skus, accounts, holding, per_unit)
                    lp[:, : fit.shape[1]] += fit
            columns.append(lp)
        return np.stack(columns, axis=2)

    def _held_table(self, accounts: list[str]) -> np.ndarray:
        """[G, 4] every reach whose units are still held on these accounts: index of the
        account in `accounts`, sku, units held, plate they came from."""
        rows = [(i, s, g[3], g[4]) for i, a in enumerate(accounts)
                for s, groups in self.held_units.get(a, {}).items() for g in groups if g[3] > 0]
        return np.array(rows, dtype=np.float64).reshape(-1, 4)

    def _origin_factor(self, plate: int, table: np.ndarray, per_unit: np.ndarray) -> np.ndarray:
        """[S]: per sku, how likely the units held of it are, on average, to be put down on this
        plate given where each was taken (1 for units from this plate, ELSEWHERE_PUT else)."""
        sku = table[:, 1].astype(np.int64)
        mass = per_unit[table[:, 0].astype(np.int64)] * table[:, 2]
        here = mass * np.where(table[:, 3] == plate, 1.0, ELSEWHERE_PUT)
        total = np.bincount(sku, mass, minlength=self.layout.n_skus)
        near = np.bincount(sku, here, minlength=self.layout.n_skus)
        return np.where(total > 0, near / np.where(total > 0, total, 1.0), 1.0)

    def _put_count_logprior(
        self, plate: int, skus: np.ndarray, table: np.ndarray, holding: np.ndarray,
        per_unit: np.ndarray,
    ) -> np.ndarray:
        """[len(skus), M] log prior of putting down m units of a sku, m = 1..M.

        Units taken together in one reach tend to go back together: for a sku the person may
        hold, a put is (WHOLE_REACH_PUT) all the units still held from one earlier reach, of
        the reaches the person may hold units from, or else any count as for a pick.
        """
        count_lp = np.tile(count_logprior(MAX_RESTOCK_UNITS), (len(skus), 1))
        whole = np.zeros((len(skus), MAX_RESTOCK_UNITS))
        slot = np.full(self.layout.n_skus, -1)
        slot[skus] = np.arange(len(skus))
        row = slot[table[:, 1].astype(np.int64)]
        account = table[:, 0].astype(np.int64)
        k = table[:, 2].astype(np.int64)
        use = (row >= 0) & (holding[account] > STRANGER_WEIGHT) & (k <= MAX_RESTOCK_UNITS)
        origin = np.where(table[use, 3] == plate, 1.0, ELSEWHERE_PUT)
        np.add.at(whole, (row[use], k[use] - 1), per_unit[account[use]] * origin)
        held = whole.sum(axis=1) > 0
        if not held.any():
            return count_lp
        share = whole[held] / whole[held].sum(axis=1, keepdims=True)
        log_z = float(np.log(np.exp(count_logprior(MAX_RESTOCK_UNITS)).sum()))
        with np.errstate(divide="ignore"):
            count_lp[held] = np.logaddexp(np.log1p(-WHOLE_REACH_PUT) + count_lp[held],
                                          np.log(WHOLE_REACH_PUT) + log_z + np.log(share))
        return count_lp

    def _held_unit_loglik(
        self, change: LoadChange, skus: np.ndarray, accounts: list[str], weights: np.ndarray,
        per_unit: np.ndarray,
    ) -> np.ndarray:
        """[len(skus), M]: log p(change | m held units of the sku) - log p(change | m catalogue
        units), for m = 1..M.

        Every unit was weighed when it was picked: m units put back weigh what they weighed
        then (m of a reach's n units: m/n of what that reach moved). The held units are those
        of their own account and of accounts whose people they came close to (`weights`), each
        unit weighted by how likely it is to be in their hands (`per_unit`); where none of
        those holds m units of a sku the correction is 0.
        """
        lay = self.layout
        rows: list[list[float]] = []  # sku, holding weight, group...
        for a, h, u in zip(accounts, weights, per_unit, strict=True):
            if h <= STRANGER_WEIGHT:
                continue  # units pass only between people who came close
            for s, groups in self.held_units.get(a, {}).items():
                rows.extend([s, u, *g] for g in groups if g[3] > 0)
        if not rows:
            return np.zeros((len(skus), 1))
        table = np.array(rows)
        slot = np.full(lay.n_skus, -1)
        slot[skus] = np.arange(len(skus))
        where = slot[table[:, 0].astype(np.int64)]
        table, where = table[where >= 0], where[where >= 0]
        if len(table) == 0:
            return np.zeros((len(skus), 1))
        m_max = int(min(table[:, 5].max(), MAX_RESTOCK_UNITS))
        order = np.argsort(where, kind="stable")
        table, where = table[order], where[order]
        starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
        seg = np.cumsum(np.r_[False, where[1:] != where[:-1]])  # segment of each row
        noise = change.sd_g**2 + MODEL_SD_G**2
        grams = abs(change.delta_g)
        sd = lay.unit_sd[table[:, 0].astype(np.int64)][:, None]
        total, var, n, k = (table[:, c, None] for c in (2, 3, 4, 5))
        m = np.arange(1, m_max + 1, dtype=np.float64)[None, :]
        ok = k >= m  # [rows, M]: the group still holds m units
        mean = m * total / n
        spread = sd**2 * m * np.maximum(n - m, 0.0) / n + (m / n) ** 2 * var + noise
        unit_ll = np.where(ok, residual_loglik(grams - mean, spread, mean), -np.inf)
        # per sku and m: log of the holding-weighted mean over the groups that hold m units
        top = np.maximum.reduceat(unit_ll, starts, axis=0)
        base = np.where(np.isfinite(top), top, 0.0)
        origin = np.where(table[:, 6:7] == change.plate, 1.0, ELSEWHERE_PUT)
        weight = table[:, 1:2] * origin * k * ok
        mass = np.add.reduceat(weight * np.exp(unit_ll - base[seg]), starts, axis=0)
        share = np.add.reduceat(weight, starts, axis=0)
        held = share > 0
        sku_of = skus[where[starts]]
        w_s, sd_s = lay.unit_weight[sku_of][:, None], lay.unit_sd[sku_of][:, None]
        catalogue = residual_loglik(grams - m * w_s, m * sd_s**2 + noise, m * w_s)
        with np.errstate(divide="ignore"):
            fit = np.log(np.where(held, mass, 1.0)) + base - np.log(np.where(held, share, 1.0))
        out = np.zeros((len(skus), m_max))
        out[where[starts]] = np.where(held, fit - catalogue, 0.0)
        return out

    def _holding_weights(self, account_id: str, tid: int, accounts: list[str],
                         by: float = np.inf) -> np.ndarray:
        """How likely this person is to hold each account's units: their own for certain,
        those of people they came close to (a hand-off) somewhat, anyone else's barely. Only
        what had happened `by` then counts: a put resolved late is no hand-off of a later
        meeting."""
        weights = np.empty(len(accounts))
        for i, other in enumerate(accounts):
            if other == account_id:
                weights[i] = 1.0
                continue
            members = self.people.accounts[other].members
            if any(self.people.touched_hands(tid, m, by) for m in members):
                weights[i] = HANDED_WEIGHT
            elif any(self.people.met(tid, m, by) for m in members):
                weights[i] = MET_WEIGHT
            else:
                weights[i] = STRANGER_WEIGHT
        return weights

    def _account_of(self, tid: int | None) -> str | None:
        """The chargeable account of a shopper, None for staff, strangers and closed accounts."""
        person = self.people.persons.get(tid) if tid is not None else None
        if person is None or person.role != "shopper" or person.account_id in self._issued:
            return None
        return person.account_id

    def _apply_pick(
        self, plate: int, sku: int, count: int, tid: int | None,
        reading: tuple[float, float] | None = None,
    ) -> None:
        """`reading`: the grams these units weighed together and that reading's variance."""
        self.stock[plate, sku] = max(0, self.stock[plate, sku] - count)
        account = self._account_of(tid)
        if account is not None:
            back = min(count, self._strays.get((account, plate, sku), 0))
            if back:  # their own stray units back in hand
                self._strays[(account, plate, sku)] -= back
                if reading is not None:
                    frac = (count - back) / count
                    reading = (reading[0] * frac, reading[1] * frac**2)
                count -= back
        if account is not None and count > 0:
            self.carts[account][sku] += count
            if reading is None:  # not weighed alone: what the catalogue says
                reading = (count * float(self.layout.unit_weight[sku]),
                           count * float(self.layout.unit_sd[sku]) ** 2)
            groups = self.held_units.setdefault(account, {}).setdefault(sku, [])
            groups.append([reading[0], reading[1], float(count), float(count), float(plate)])

    def _drop_units(self, account: str, sku: int, count: int,
                    reading: tuple[float, float] | None, plate: int = -1) -> None:
        """Forget `count` held units of sku on the account: from the reaches whose units
        best match what was put down."""
        groups = [g for g in self.held_units.get(account, {}).get(sku, []) if g[3] > 0]
        left = count
        while left > 0 and groups:
            if reading is None:
                g = groups[-1]
            else:
                fits = [float(self._group_fit(sku, g, min(left, g[3]), reading[0] * min(
                    left, g[3]) / count, reading[1])[0]) + np.log(_origin_weight(g, plate))
                    for g in groups]
                g = groups[int(np.argmax(fits))]
            take = min(left, int(g[3]))
            g[3] -= take
            left -= take
            groups = [h for h in groups if h[3] > 0]

    def _whose_unit(self, account: str, tid: int, sku: int, count: int,
                    reading: tuple[float, float], plate: int, by: float) -> str | None:  # fmt: skip
        """The open account whose units of sku this person most likely put back: how likely
        they are to hold that account's units, times how well the units it holds match."""
        accounts = [a for a, cart in self.carts.items()
                    if a not in self._issued and cart[sku] >= count]
        if not accounts:
            return None
        weights = self._holding_weights(account, tid, accounts, by)
        best, best_score = None, -np.inf
        for a, h in zip(accounts, weights, strict=True):
            groups = [g for g in self.held_units.get(a, {}).get(sku, []) if g[3] >= count]
            if not groups or h <= STRANGER_WEIGHT:
                continue  # units pass only between people who came close
            table = np.array(groups)
            ll = self._group_fit(sku, table, count, reading[0], reading[1]) + np.log(table[:, 3])
            ll += np.log(np.where(table[:, 4] == plate, 1.0, ELSEWHERE_PUT))
            if a != account:
                # a hand-off passes a unit or so, not everything that account took: its units
                # share the chance of being the one handed over
                ll -= np.log(max(float(self.carts[a].sum()), 1.0))
            score = float(np.log(h if a == account else h * OTHERS_UNIT_SHARE)
                          + np.logaddexp.reduce(ll))
            if score > best_score:
                best, best_score = a, score
        return best

    def _apply_put(
        self, plate: int, sku: int, count: int, tid: int | None,
        reading: tuple[float, float] | None = None, by: float = np.inf,
    ) -> None:
        """`by`: when the units were put down (hand-offs after that do not count)."""
        self.stock[plate, sku] += count
        account = self._account_of(tid)
        if account is None or tid is None:
            return
        left = count
        own = self.carts[account]
        if reading is not None:
            holder = self._whose_unit(account, tid, sku, count, reading, plate, by)
            if holder is not None and holder != account:
                self.carts[holder][sku] -= count
                self._drop_units(holder, sku, count, reading, plate)
                return
        take = min(left, int(own[sku]))
        own[sku] -= take
        self._drop_units(account, sku, take, reading, plate)
        left -= take
        if left == 0:
            return
        others = [a for a, cart in self.carts.items()
                  if a != account and a not in self._issued and cart[sku] > 0]
        weights = self._holding_weights(account, tid, others, by)
        # a unit handed over comes off the picker's account: prefer accounts whose people
        # touched hands with this person, then those they came close to; units pass only
        # between people who came close, so a stranger's units stay on their account
        for w, a in sorted(zip(-weights, others, strict=True)):
            if -w <= STRANGER_WEIGHT:
                break
            cart = self.carts[a]
            take = min(left, int(cart[sku]))
            cart[sku] -= take
            self._drop_units(a, sku, take, None)
            left -= take
            if left == 0:
                return
        key = (account, plate, sku)
        self._strays[key] = self._strays.get(key, 0) + left

    # ---- receipts -----------------------------------------------------------------------

    def _blocked(self, acct: Account, t: float) -> bool:
        """Could an unresolved shelf event still change this account's cart?"""
        exit_t = acct.exit_t if acct.exit_t is not None else t
        open_now = [iv for iv in self._intervals if iv.start <= t < iv.end]
        open_now += [_Interval(c.plate, c.t_start, np.inf) for c in self._pending_puts]
        open_now += [_Interval(c.plate, c.t_start, np.inf) for c in self._rises.values()]
        return any(
            self.people.was_near(acct.members, iv.plate, iv.start - 1.0, min(t, exit_t))
            for iv in open_now
        )

    def _issue_ready(self, t: float) -> list[dict[str, Any]]:
        issued = []
        for account_id, exit_t in list(self._waiting.items()):
            if exit_t <= t and self._rises and account_id not in self._rises_released:
                self._rises_released.add(account_id)
                # a shopper who has left cannot take back a load they rested on a shelf; anyone
                # else still can, so their rises keep waiting for a return (released here, a lean
                # by someone they met read as a put of this account's units). A unit they handed
                # over that such a rise put down stays on this receipt, as for a put after it.
                members = set(self.people.accounts[account_id].members)
                for rise in self._release_rises(t, members):
                    self._on_change(rise, t, hold=False)
            if exit_t <= t and not self._blocked(self.people.accounts[account_id], t):
                issued.append(self._receipt(account_id, exit_t, t))
        return issued

    def _expire(self, t: float, now: float | None = None,
                strict: bool = False) -> list[dict[str, Any]]:
        issued = []
        for account_id, exit_t in list(self._waiting.items()):
            due = exit_t + RECEIPT_DEADLINE_S
            if due < t or (due == t and not strict):
                for rise in self._release_rises(t, self._with_met(account_id)):
                    self._resolve(rise)
                at = exit_t + RECEIPT_DEADLINE_S if now is None else now
                issued.append(self._receipt(account_id, exit_t, at))
        return issued

    def _receipt(self, account_id: str, exit_t: float, emitted_t: float) -> dict[str, Any]:
        self._waiting.pop(account_id, None)
        self._issued.add(account_id)
        cart = self.carts.pop(account_id, None)  # a closed account takes no more changes
        self.held_units.pop(account_id, None)
        self._strays = {k: n for k, n in self._strays.items() if k[0] != account_id}
        items = []
        if cart is not None:
            items = [
                {"sku": self.layout.skus[s], "qty": int(cart[s])} for s in np.flatnonzero(cart > 0)
            ]
        receipt = {"account_id": account_id, "items": items, "exit_t": float(exit_t),
                   "emitted_t": float(max(emitted_t, exit_t))}
        self.receipts.append(receipt)
        return receipt


def _best_other(evidence: np.ndarray, k: int) -> float:
    """The best hand evidence (wrist log-likelihood plus contact) of anyone but candidate k,
    and at worst a bystander's."""
    others = np.delete(evidence, k)
    return max(float(others.max()) if len(others) else -np.inf, LOG_BYSTANDER_DENSITY)


def _origin_weight(group: list[float], plate: int) -> float:
    """How likely a held reach's units are to be put down on `plate`, relative to a reach
    that took them from it."""
    return 1.0 if int(group[4]) == plate else ELSEWHERE_PUT


def _transient_logprior(grams: float) -> float:
    """Log prior of a transient load (a press, a lean) of this size, relative to units."""
    size = float(np.clip(grams, TRANSIENT_MIN_G, TRANSIENT_MAX_G))
    return float(LOG_TRANSIENT_PRIOR - np.log(size)
                 - np.log(np.log(TRANSIENT_MAX_G / TRANSIENT_MIN_G)))


def _timing_density(r: float, sd: float) -> float:
    """Log density of a level read across one contact, `r` off what is expected: Gaussian,
    with a share of reads spoilt (a wrist lost for part of the contact, another hand pressing
    in the window) that tell nothing, so one bad read cannot outvote the hand evidence."""
    gauss = -0.5 * (r / sd) ** 2 - np.log(sd * np.sqrt(2 * np.pi))
    return float(np.logaddexp(np.log1p(-TIMING_SPOILT) + gauss,
                              np.log(TIMING_SPOILT) + TIMING_SPOILT_LOGDENSITY))


def _lead_loglik(lo: float, hi: float) -> float:
    """Log-likelihood ratio, toucher against a bystander whose hand was on the plate too, of a
    hand that arrived between `lo` and `hi` seconds before the load started to change, or left
    that long after it reached its new level. A reach arrives just before and leaves with the
    unit just after; a bystander's hand is passing (as brief a stay) or resting (there long
    before and long after)."""
    reach, rest = _lead_mass(lo, hi, REACH_LEAD_S), _lead_mass(lo, hi, RESTING_S)
    toucher = (1.0 - RESTED_BEFORE_TAKING) * reach + RESTED_BEFORE_TAKING * rest
    bystander = (1.0 - RESTING_SHARE) * reach + RESTING_SHARE * rest
    return float(np.log(toucher / bystander))


def _lead_mass(lo: float, hi: float, scale: float) -> float:
    """Chance that an exponential lead of this scale falls in [lo, hi] (its density at lo if
    the span is a point)."""
    if hi - lo < 1e-6:
        return float(np.exp(-lo / scale) / scale)
    return float(np.exp(-lo / scale) - np.exp(-hi / scale))


def _shelf_neighbours(shelf_key: np.ndarray, shelf_pos: np.ndarray, reach_m: float
                      ) -> list[np.ndarray]:  # fmt: skip
    """For each plate, itself and the plates of its shelf within reach_m along it."""
    neighbours: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(shelf_key)
    order = np.argsort(shelf_key, kind="stable")
    bounds = np.flatnonzero(np.diff(shelf_key[order])) + 1
    for members in np.split(order, bounds):
        pos = shelf_pos[members]
        close = np.abs(pos[:, None] - pos[None, :]) <= reach_m
        for i, p in enumerate(members.tolist()):
            neighbours[p] = members[close[i]]
    return neighbours
