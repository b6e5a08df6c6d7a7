"""Who visits the store and what they mean to do: groups, their walks, stops and reaches.

A group (a lone shopper, a family on one account, two friends on two accounts, a member of
staff) walks one path. The first member leads; the others follow the same path a little later
and stand beside the leader at each stop. Every reach is planned here as an intent ("take two
of sku X from plate P"); what actually moves is settled later against the stock (stock.py),
so a reach for an empty slot simply touches the shelf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retailos.sim.store.catalogue import BasketSampler
from retailos.sim.store.layout import Layout, Shelving
from retailos.sim.store.suites import Suite

FOLLOW_LAG_S = 0.8  # each follower walks this far behind the one before
SIDE_STEP_M = 0.62  # followers stand this far along the shelf from the leader at a stop
STANDOFF_M = (0.32, 0.45)  # body centre to shelf front while reaching
END_MARGIN_S = 2.5  # everyone is out this long before the recording ends


@dataclass
class Member:
    track_id: int
    account_id: str
    role: str  # "shopper" | "staff"
    height_m: float
    lag_s: float
    offset: np.ndarray  # [2], stance beside the leader at a stop
    t_enter: float = 0.0
    t_exit: float = 0.0


@dataclass
class Reach:
    """One hand movement to a plate (or to another person's hand) and what it intends."""

    reach_id: int
    member: int  # index into Plan.members
    kind: str  # pick | put_own | put_wrong | restock | touch | give | receive
    plate: int | None
    sku: str | None
    qty: int
    t_start: float
    t_arrive: float
    t_change: float
    t_leave: float
    t_end: float
    ref: int | None = None  # the reach whose units this put or hand-off concerns
    partner: int | None = None  # for give/receive: the other member
    long_hold: bool = False


@dataclass
class Group:
    members: list[int]  # indices into Plan.members
    key_t: list[float] = field(default_factory=list)  # leader ("anchor") path, time
    key_xy: list[np.ndarray] = field(default_factory=list)
    dwells: list[tuple[float, float, np.ndarray]] = field(default_factory=list)  # t0,t1,facing


@dataclass
class Plan:
    members: list[Member] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    reaches: list[Reach] = field(default_factory=list)
    group_of_member: list[int] = field(default_factory=list)


def plan_visits(
    layout: Layout,
    shelving: Shelving,
    baskets: BasketSampler,
    suite: Suite,
    duration_s: float,
    rng: np.random.Generator,
) -> Plan:
    """Plan every group that enters and leaves within the recording."""
    planner = _Planner(layout, shelving, baskets, suite, duration_s, rng)
    planner.run()
    return planner.plan


class _Planner:
    def __init__(
        self,
        layout: Layout,
        shelving: Shelving,
        baskets: BasketSampler,
        suite: Suite,
        duration_s: float,
        rng: np.random.Generator,
    ) -> None:
        self.layout, self.shelving, self.baskets = layout, shelving, baskets
        self.suite, self.duration, self.rng = suite, duration_s, rng
        self.plan = Plan()
        self.next_track = 1
        self.next_account = 1
        self.next_staff = 1
        self.planogram_skus = sorted(shelving.planogram)
        # Where people stand still, and when: (t0, t1, x, y). Nobody stands inside another.
        self.occupied: list[tuple[float, float, float, float]] = []

    # ------------------------------------------------------------------ arrivals

    def run(self) -> None:
        s, rng = self.suite, self.rng
        mean_visit_s = 75.0  # what the planned visits come to on average
        persons_per_group = 1.0 + s.family_rate * 1.8 + s.companion_rate
        # Little's law: arrivals per second = people inside / time each spends inside.
        group_rate = s.concurrent_shoppers / persons_per_group / mean_visit_s
        # Open with a crowd already arriving, so the store is busy from the first minute.
        opening = rng.uniform(0.5, 25.0, int(s.concurrent_shoppers / persons_per_group))
        arrivals = [float(x) for x in np.sort(opening)]
        t = 25.0
        while t < self.duration:
            t += float(rng.exponential(1.0 / group_rate))
            arrivals.append(t)
        for t_arrive in arrivals:
            if t_arrive > self.duration - 20.0:
                break
            u = rng.uniform()
            if u < s.family_rate:
                self._plan_group(t_arrive, kind="family")
            elif u < s.family_rate + s.companion_rate:
                self._plan_group(t_arrive, kind="companions")
            else:
                self._plan_group(t_arrive, kind="solo")
        n_staff = max(
            s.min_staff_visits, rng.poisson(s.staff_visits_per_hour * self.duration / 3600)
        )
        for t_arrive in np.sort(rng.uniform(1.0, max(2.0, self.duration - 45.0), n_staff)):
            self._plan_group(float(t_arrive), kind="staff")

    # ------------------------------------------------------------------ groups

    def _new_member(self, account: str, role: str, height: float, k: int) -> Member:
        side = 1.0 if k % 2 else -1.0
        offset = np.array([0.0, side * SIDE_STEP_M * ((k + 1) // 2)])
        member = Member(
            track_id=self.next_track,
            account_id=account,
            role=role,
            height_m=height,
            lag_s=FOLLOW_LAG_S * k,
            offset=offset,
        )
        self.next_track += 1
        return member

    def _plan_group(self, t_enter: float, kind: str) -> None:
        rng = self.rng
        members: list[Member] = []
        if kind == "staff":
            account = f"staff-{self.next_staff}"
            self.next_staff += 1
            members.append(self._new_member(account, "staff", rng.uniform(1.6, 1.9), 0))
        else:
            account = f"acct-{self.next_account}"
            self.next_account += 1
            members.append(self._new_member(account, "shopper", rng.uniform(1.55, 1.92), 0))
            if kind == "family":
                for k in range(1, int(rng.integers(2, 5))):
                    child = rng.uniform() < 0.5
                    height = rng.uniform(1.05, 1.4) if child else rng.uniform(1.55, 1.9)
                    members.append(self._new_member(account, "shopper", height, k))
            elif kind == "companions":
                other = f"acct-{self.next_account}"
                self.next_account += 1
                members.append(self._new_member(other, "shopper", rng.uniform(1.55, 1.9), 1))
            if kind == "family" and rng.uniform() < 0.4:
                # The family splits up at the door: one account, separate paths.
                for k, member in enumerate(members):
                    member.lag_s, member.offset = 0.0, np.zeros(2)
                    self._commit([member], t_enter + k * rng.uniform(0.6, 1.6), "solo")
                return
        self._commit(members, t_enter, kind)

    def _commit(self, members: list[Member], t_enter: float, kind: str) -> None:
        """Schedule the group's visit (shortened if need be) and add it to the plan."""
        tasks = self._tasks(members, kind)
        for _attempt in range(6):
            result = self._schedule(members, tasks, t_enter, kind)
            if result is not None:
                break
            # Too long to finish before the recording ends: drop the last stop and retry.
            if not tasks:
                return
            tasks = tasks[:-1]
        else:
            return
        group, reaches, occupied = result
        self.occupied.extend(occupied)
        base = len(self.plan.members)
        gid = len(self.plan.groups)
        group.members = list(range(base, base + len(members)))
        for r in reaches:
            r.member += base
            if r.partner is not None:
                r.partner += base
        self.plan.members.extend(members)
        self.plan.group_of_member.extend([gid] * len(members))
        self.plan.groups.append(group)
        self.plan.reaches.extend(reaches)

    # ------------------------------------------------------------------ what to do

    def _tasks(self, members: list[Member], kind: str) -> list[list[tuple]]:
        """Stops as lists of (member, action, plate, sku, qty) in walking order."""
        rng, s, lay = self.rng, self.suite, self.layout
        stops: list[tuple[int, list[tuple]]] = []  # (plate, actions)
        if kind == "staff":
            for plate in rng.choice(lay.n_plates, size=int(rng.integers(2, 7)), replace=False):
                sku = self.shelving.home_sku[int(plate)][0]
                actions: list[tuple] = [(0, "restock", int(plate), sku, int(rng.integers(1, 5)))]
                if rng.uniform() < 0.4:
                    # Facing the shelf: lift a unit and set it down again, tidily.
                    actions.append((0, "pick", int(plate), sku, 1))
                    actions.append((0, "put_own", int(plate), sku, 1))
                stops.append((int(plate), actions))
        else:
            adults = [k for k, m in enumerate(members) if m.height_m >= 1.5]
            if rng.uniform() < s.browse_only_rate:
                lines: list[tuple[str, int]] = []
                for _ in range(int(rng.integers(1, 3))):
                    sku = self.planogram_skus[int(rng.integers(len(self.planogram_skus)))]
                    lines.append((sku, -1))  # -1: look and put back
            else:
                lines = self.baskets.sample(rng, s.max_items)
                if len(lines) < 2 and rng.uniform() < 0.5:
                    lines += self.baskets.sample(rng, max(1, s.max_items - len(lines)))
                if kind in ("family", "companions"):
                    lines += self.baskets.sample(rng, max(1, s.max_items // 2))
            for sku, qty in lines:
                plates = self.shelving.planogram[sku]
                plate = int(plates[int(rng.integers(len(plates)))])
                who = int(rng.integers(len(members)))
                if members[who].height_m < 1.5 and lay.center[plate, 2] > 1.0:
                    # Children reach the low shelves only; alone, they skip what is too high.
                    low = [int(p) for p in plates if lay.center[int(p), 2] <= 1.0]
                    if adults:
                        who = int(rng.choice(adults))
                    elif low:
                        plate = low[int(rng.integers(len(low)))]
                    else:
                        continue
                actions = []
                if qty < 0:
                    actions.append((who, "pick", plate, sku, 1))
                    actions.append((who, "put_own", plate, sku, 1))
                else:
                    if qty == 1 and rng.uniform() < s.multi_unit_rate:
                        qty = int(rng.integers(2, 4))
                    if qty >= 2 and rng.uniform() < 0.5 + s.multi_unit_rate:
                        grabs = [qty]
                    else:
                        grabs = [1] * qty
                    for n in grabs:
                        actions.append((who, "pick", plate, sku, n))
                        if rng.uniform() < s.put_back_own_rate:
                            actions.append((who, "put_own", plate, sku, n))
                stops.append((plate, actions))
            # Shoppers also stop to look at shelves they buy nothing from.
            for plate in rng.choice(lay.n_plates, size=int(rng.poisson(2.5)), replace=True):
                stops.append((int(plate), [(0, "look", int(plate), None, 0)]))

        # Walk the aisles in order, up one and down the next.
        def walk_order(item: tuple[int, list[tuple]]) -> tuple[int, float]:
            plate = item[0]
            aisle = int(lay.aisle_of_plate[plate])
            y = float(lay.center[plate, 1])
            return aisle, y if aisle % 2 == 0 else -y

        stops.sort(key=walk_order)
        # On the way out, some shoppers walk back and return something to where it was.
        returns: list[tuple[int, list[tuple]]] = []
        for plate, actions in stops:
            for who, action, target, sku, qty in actions:
                if action == "pick" and rng.uniform() < s.put_back_own_rate / 2:
                    returns.append((plate, [(who, "put_own", target, sku, qty)]))
        return [self._decorate(members, plate, actions) for plate, actions in stops + returns]

    def _decorate(self, members: list[Member], plate: int, actions: list[tuple]) -> list[tuple]:
        """Add touches and a place for the stop's plate, so scheduling knows where to stand."""
        rng, s = self.rng, self.suite
        out = [(-1, "stand", plate, None, 0)]
        if rng.uniform() < s.touch_rate:
            who = actions[0][0] if actions else 0
            neighbour = self._nearby_plate(plate, 0.0)
            out.append((who, "touch", neighbour, None, 0))
        out.extend(actions)
        return out

    def _nearby_plate(self, plate: int, dy: float) -> int:
        """A plate on the same gondola face near plate's position shifted by dy along y."""
        lay = self.layout
        same_face = np.flatnonzero(lay.gondola == lay.gondola[plate])
        y = lay.center[plate, 1] + dy
        close = same_face[np.abs(lay.center[same_face, 1] - y) <= lay.width[same_face] / 2 + 0.05]
        if len(close) == 0:
            return plate
        return int(close[int(self.rng.integers(len(close)))])

    # ------------------------------------------------------------------ timing

    def _schedule(
        self, members: list[Member], tasks: list[list[tuple]], t_enter: float, kind: str
    ) -> tuple[Group, list[Reach], list[tuple[float, float, float, float]]] | None:
        rng, s, lay = self.rng, self.suite, self.layout
        group = Group(members=[])
        gate_id = int(rng.integers(len(lay.gates)))
        gate_xy = lay.gates[gate_id][1][:2].copy()
        speed = rng.uniform(1.0, 1.4)
        t = t_enter
        here = gate_xy
        group.key_t.append(t)
        group.key_xy.append(here)
        reaches: list[Reach] = []
        held: dict[int, list[int]] = {k: [] for k in range(len(members))}  # member -> reach ids
        next_id = len(self.plan.reaches)
        handoff_done = False
        occupied: list[tuple[float, float, float, float]] = []
        companions = kind == "companions"
        last_pick: dict[tuple[int, int], Reach] = {}  # (member, plate) -> latest pick there

        for stop_index, stop in enumerate(tasks):
            plate = stop[0][2]
            reacher = next((a[0] for a in stop[1:] if a[0] >= 0), 0)
            facing = lay.facing[plate]
            front = lay.front_edge(plate)
            stand = front[:2] + facing * rng.uniform(*STANDOFF_M)
            stand[1] += rng.uniform(-0.12, 0.12)
            anchor = stand - members[reacher].offset
            arrive = t + 1.3 * float(np.linalg.norm(anchor - here)) / speed
            stay = (
                3.0
                + 3.5 * sum(1 for a in stop[1:] if a[1] != "look")
                + 4.0 * sum(1 for a in stop[1:] if a[1] == "look")
            )
            anchor, wait = self._free_anchor(anchor, facing, members, arrive, stay)
            if wait > 0:
                t += wait  # waits where it is for the spot to clear
                group.key_t.append(t)
                group.key_xy.append(here.copy())
            for point in _route(lay, here, anchor):
                t += float(np.linalg.norm(point - here)) / speed
                group.key_t.append(t)
                group.key_xy.append(point)
                here = point
            d0 = t
            cursor = {k: d0 + rng.uniform(0.8, 3.0) + m.lag_s for k, m in enumerate(members)}

            def add(k: int, kind_: str, plate_: int | None, sku: str | None, qty: int,
                    ref: int | None = None, start: float | None = None,
                    partner: int | None = None, cursor: dict[int, float] = cursor
                    ) -> Reach:  # fmt: skip
                nonlocal next_id
                t0 = cursor[k] if start is None else max(cursor[k], start)
                approach = rng.uniform(0.35, 0.7)
                long_hold = kind_ not in ("give", "receive") and rng.uniform() < s.long_hold_rate
                contact = rng.uniform(3.0, 7.0) if long_hold else rng.uniform(0.35, 1.1)
                t_arrive = t0 + approach
                t_change = t_arrive + contact * rng.uniform(0.3, 0.7)
                t_leave = t_arrive + contact
                t_end = t_leave + rng.uniform(0.35, 0.7)
                r = Reach(next_id, k, kind_, plate_, sku, qty, t0, t_arrive, t_change, t_leave,
                          t_end, ref=ref, partner=partner, long_hold=long_hold)  # fmt: skip
                next_id += 1
                cursor[k] = t_end + rng.uniform(0.25, 1.0)
                reaches.append(r)
                return r

            for who, action, target, sku, qty in stop[1:]:
                if action == "pick" or action == "restock":
                    r = add(who, action, target, sku, qty)
                    if action == "pick":
                        last_pick[(who, target)] = r
                        if rng.uniform() < s.put_back_wrong_rate:
                            held[who].append(-r.reach_id - 1)  # marked: to be put elsewhere
                        else:
                            held[who].append(r.reach_id)
                elif action == "put_own":
                    pick = last_pick.get((who, target))
                    if pick is not None:
                        cursor[who] += rng.uniform(1.0, 4.0)  # looks at it, changes mind
                        add(who, "put_own", target, sku, qty, ref=pick.reach_id)
                        for mark in (pick.reach_id, -pick.reach_id - 1):
                            if mark in held[who]:
                                held[who].remove(mark)
                elif action == "look":
                    cursor[who] += rng.uniform(1.0, 6.0)
                elif action == "touch":
                    add(who, "touch", target, None, 0)

            # Earlier picks marked for a wrong-shelf return go onto a plate here.
            for k in range(len(members)):
                for marked in [h for h in held[k] if h < 0 and -h - 1 < next_id]:
                    ref = -marked - 1
                    if any(r.reach_id == ref and r.t_end < cursor[k] - 0.5 for r in reaches) and (
                        stop_index > 0 and rng.uniform() < 0.6 or stop_index == len(tasks) - 1
                    ):
                        dy = float(members[k].offset[1] - members[reacher].offset[1])
                        wrong = self._nearby_plate(plate, dy)
                        add(k, "put_wrong", wrong, None, 0, ref=ref)
                        held[k].remove(marked)

            # Simultaneous reach: a follower grabs something next to the leader's hand.
            if len(members) > 1 and rng.uniform() < 0.35:
                k = int(rng.integers(1, len(members))) if reacher == 0 else 0
                if members[k].role == "shopper":
                    dy = float(members[k].offset[1] - members[reacher].offset[1])
                    near = self._nearby_plate(plate, dy)
                    # Beside the other hand, not on the same plate: two hands on one plate at
                    # once cannot be told apart by weight, and people rarely do it.
                    reachable = members[k].height_m >= 1.5 or lay.center[near, 2] <= 1.0
                    if near != plate and reachable:
                        primary = next((r for r in reaches if r.t_start >= d0), None)
                        start = (
                            None if primary is None else primary.t_start + rng.uniform(-0.3, 0.8)
                        )
                        sku = self.shelving.home_sku[near][0]
                        r = add(k, "pick", near, sku, 1, start=start)
                        held[k].append(r.reach_id)

            # A hand-off: one member passes something they picked to another.
            if (len(members) > 1 and not handoff_done and stop_index > 0
                    and members[0].role == "shopper"
                    and rng.uniform() < s.handoff_rate):  # fmt: skip
                givers = [k for k in range(len(members)) if any(h >= 0 for h in held[k])]
                if givers:
                    g = givers[int(rng.integers(len(givers)))]
                    rcv = int(rng.choice([k for k in range(len(members)) if k != g]))
                    ref = next(h for h in reversed(held[g]) if h >= 0)
                    start = max(cursor[g], cursor[rcv])
                    give = add(g, "give", None, None, 0, ref=ref, start=start, partner=rcv)
                    take = add(rcv, "receive", None, None, 0, ref=give.reach_id,
                               start=start, partner=g)  # fmt: skip
                    # Both hands meet: one moment of change, shared by both movements.
                    take.t_start, take.t_arrive = give.t_start + 0.1, give.t_arrive + 0.05
                    take.t_change = give.t_change
                    take.t_leave = max(give.t_leave, take.t_change + 0.2)
                    take.t_end = take.t_leave + 0.4
                    cursor[rcv] = max(cursor[rcv], take.t_end + 0.3)
                    held[g].remove(ref)
                    handoff_done = True
                    # Among friends, the receiver sometimes puts it back on a shelf later.
                    if companions and rng.uniform() < 0.3:
                        held[rcv].append(-give.reach_id - 1)
                    else:
                        held[rcv].append(give.reach_id)

            d1 = max(c - members[k].lag_s for k, c in cursor.items()) + rng.uniform(0.2, 0.8)
            t = d1
            group.key_t.append(d1)
            group.key_xy.append(here.copy())
            group.dwells.append((d0, d1, facing.copy()))
            for m in members:
                spot = here + m.offset
                occupied.append((d0 + m.lag_s, d1 + m.lag_s, float(spot[0]), float(spot[1])))

        for point in _route(lay, here, gate_xy):
            t += float(np.linalg.norm(point - here)) / speed
            group.key_t.append(t)
            group.key_xy.append(point)
            here = point
        t_exit = t
        if t_exit + max(m.lag_s for m in members) > self.duration - END_MARGIN_S:
            return None
        for m in members:
            # Gate clocks stamp to the millisecond.
            m.t_enter = round(t_enter + m.lag_s, 3)
            m.t_exit = round(t_exit + m.lag_s, 3)
        group.key_t = _strictly_increasing(group.key_t)
        return group, reaches, occupied

    def _free_anchor(
        self,
        anchor: np.ndarray,
        facing: np.ndarray,
        members: list[Member],
        arrive: float,
        stay: float,
    ) -> tuple[np.ndarray, float]:
        """Where to stand, and how long to wait first, so as not to stand inside someone.

        Step sideways along the shelf if the spot is taken while the group would stand there
        (from `arrive`, for about `stay` seconds); if every nearby spot is taken, wait until
        the people in the way have left, as shoppers do.
        """
        along = np.array([-facing[1], facing[0]])
        waited = 0.0
        for _ in range(5):
            start, stop = arrive + waited, arrive + waited + stay + max(m.lag_s for m in members)
            busy = [(t1, x, y) for t0, t1, x, y in self.occupied if t0 < stop and t1 > start]
            if not busy:
                return anchor, waited
            spots = np.array([(x, y) for _, x, y in busy])
            for shift in (0.0, 0.45, -0.45, 0.25, -0.25):
                candidate = anchor + along * shift
                if all(
                    np.min(np.linalg.norm(spots - (candidate + m.offset), axis=1)) >= 0.6
                    for m in members
                ):
                    return candidate, waited
            in_the_way = [
                t1 for t1, x, y in busy
                if min(np.linalg.norm(np.array([x, y]) - (anchor + m.offset)) for m in members)
                < 0.6
            ]  # fmt: skip
            waited = max(in_the_way) - arrive + 0.3
            if waited > 40.0:
                break
        return anchor, waited


def _strictly_increasing(times: list[float]) -> list[float]:
    out: list[float] = []
    for t in times:
        out.append(t if not out or t > out[-1] else out[-1] + 1e-3)
    return out


def _route(layout: Layout, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Corner points from a to b along aisles and cross aisles (b included, a not)."""
    in_store_a = a[1] > layout.y_front + 0.3
    in_store_b = b[1] > layout.y_front + 0.3
    aisle_a = int(np.argmin(np.abs(layout.aisle_x - a[0])))
    aisle_b = int(np.argmin(np.abs(layout.aisle_x - b[0])))
    if in_store_a and in_store_b and aisle_a == aisle_b:
        return [b.copy()]
    if not in_store_a and not in_store_b:
        return [np.array([a[0], layout.y_front]), np.array([b[0], layout.y_front]), b.copy()]
    if not in_store_a:
        xb = layout.aisle_x[aisle_b]
        return [np.array([a[0], layout.y_front]), np.array([xb, layout.y_front]), b.copy()]
    xa = layout.aisle_x[aisle_a]
    if not in_store_b:
        return [np.array([xa, layout.y_front]), np.array([b[0], layout.y_front]), b.copy()]
    xb = layout.aisle_x[aisle_b]
    front = abs(a[1] - layout.y_front) + abs(b[1] - layout.y_front)
    back = abs(a[1] - layout.y_back) + abs(b[1] - layout.y_back)
    yc = layout.y_front if front <= back else layout.y_back
    return [np.array([xa, yc]), np.array([xb, yc]), b.copy()]
