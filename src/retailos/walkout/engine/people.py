"""Who is in the store, on which account, and how likely each person is to have touched a plate.

Keeps a rolling buffer of body tracks and the gate log. Attribution turns wrist (or, when the
wrists were not seen, head) distances to a plate into log-likelihoods, so the caller can weigh
them against what the weight change says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retailos.walkout.engine.layout import StoreLayout
from retailos.walkout.recording import Gates, Tracks

KEEP_S = 120.0  # track history kept for attribution and hand-off detection
CONTACT_M = 0.10  # a wrist this close to a plate may be touching it
WRIST_SD_M = 0.08  # spread of the picking wrist's closest distance to the plate
LAST_WRIST_SD_M = 0.20  # wrist last seen shortly before the event: weaker evidence
LAST_WRIST_MAX_AGE_S = 2.0
HEAD_SD_M = 0.30  # head only: much weaker evidence
REACH_M = 0.70  # how far in front of the head a hand can reach on the floor
NEAR_M = 1.5  # a person whose head stays farther than this from a plate cannot touch it
# Where the head stands, as a ratio against a bystander: the toucher's head is anywhere within
# reach of the plate's front (a soft edge of HEAD_SD_M beyond), a bystander's anywhere within
# NEAR_M of it. Log of the toucher's flat density relative to the bystander's.
LOG_HEAD_RATIO = float(np.log(NEAR_M / (REACH_M + HEAD_SD_M * np.sqrt(np.pi / 2))))
REACHED_M = 0.3  # a wrist this close to a plate may have been on it a moment before
GAP_MARGIN_M = 0.05  # a wrist this much beyond contact range may still be leaving the plate
MIN_GAP_S = 0.45  # a hand-free span this long lets the plate's level be read between contacts
HANDOFF_M = 1.0  # people this close (heads on the floor) could have handed a unit over
HAND_TOUCH_M = 0.12  # two people's wrists this close, one held out: a hand-off
HAND_OUT_M = 0.24  # a wrist this far from its own head on the floor is held out
# A wrist last seen on a plate and hidden since may still be on it for about this long.
WRIST_MEMORY_S = 1.0
# A hand's arrival on a plate is looked for this far back from when its load started to change
ARRIVAL_LOOKBACK_S = 5.0
ENCOUNTER_EVERY_S = 0.2  # hands stay together for a while; a look this often is enough
# A hand changes a plate's load only while it is on the plate, so the toucher's wrist is seen on
# it for much of the change; a bystander's hand that merely passes over it (hanging at the side
# near a low shelf, reaching for the plate next door) is there for a moment. Per seen frame of
# the change's window: the chance the toucher's wrist is seen on the plate, and a bystander's
# whose wrist comes that close at all; frames are correlated, so they count as a few looks.
TOUCHER_ON_SHARE = 0.6
BYSTANDER_ON_SHARE = 0.15
CONTACT_LOOKS = 3.0
# the most a seen hand on the plate can say for a toucher against a bystander
MAX_CONTACT_LL = CONTACT_LOOKS * float(np.log(TOUCHER_ON_SHARE / BYSTANDER_ON_SHARE))
# log density of a bystander's closest wrist distance (roughly flat over 2 m): the scale that
# hand evidence is weighed against
LOG_BYSTANDER_DENSITY = float(np.log(0.5))


@dataclass
class Person:
    track_id: int
    account_id: str
    role: str
    enter_t: float
    exit_t: float | None = None


@dataclass
class Account:
    account_id: str
    members: set[int] = field(default_factory=set)
    inside: int = 0
    shopper: bool = False
    exit_t: float | None = None


@dataclass(frozen=True)
class Attribution:
    """Candidates for one event and the log-likelihood that each one touched the plate."""

    track_ids: np.ndarray  # int64 [K]
    loglik: np.ndarray  # float64 [K]
    evidence: list[str]  # "wrist" | "last-wrist" | "head" per candidate
    # float64 [K]: what the share of the window a seen wrist spent on the plate adds
    contact: np.ndarray | None = None
    # float64 [K, 2]: closest distance of the left and right wrist to the plate (inf: unseen)
    hand_d: np.ndarray | None = None
    # float64 [K]: what the head says, for people with a wrist out of sight (-inf for others)
    head_ll: np.ndarray | None = None


class People:
    """Gate log and track buffer."""

    def __init__(self, layout: StoreLayout) -> None:
        self.layout = layout
        self.persons: dict[int, Person] = {}
        self.accounts: dict[str, Account] = {}
        # pair of track ids (smaller first) -> the first time their heads came close / their
        # hands met, so an event resolved late asks only what was true at its own time
        self.encounters: dict[tuple[int, int], float] = {}
        self.hand_contacts: dict[tuple[int, int], float] = {}
        self._cap = 0
        self._lo = 0  # rows before _lo have aged out
        self._hi = 0
        self._tbuf = np.empty(0)
        self._tidbuf = np.empty(0, dtype=np.int64)
        self._xyz = np.empty((0, 10))  # head, left wrist, right wrist, conf
        # How often a wrist is out of sight, learnt from the recording: over all frames (most
        # people are not touching anything), and over load changes that only one person stood
        # near enough to make (one share per change: a hand hidden in a shelf stays hidden for
        # the whole contact). Start from one pseudo-observation at even odds each.
        self.frames_seen = 1.0
        self.frames_hidden = 0.5
        self.touches_seen = 1.0
        self.touches_hidden = 0.5

    # Views on the live part of the buffer.
    @property
    def _t(self) -> np.ndarray:
        return self._tbuf[self._lo : self._hi]

    @property
    def _tid(self) -> np.ndarray:
        return self._tidbuf[self._lo : self._hi]

    @property
    def _head(self) -> np.ndarray:
        return self._xyz[self._lo : self._hi, 0:3]

    @property
    def _lw(self) -> np.ndarray:
        return self._xyz[self._lo : self._hi, 3:6]

    @property
    def _rw(self) -> np.ndarray:
        return self._xyz[self._lo : self._hi, 6:9]

    @property
    def _wrists(self) -> np.ndarray:  # left wrist xyz, right wrist xyz
        return self._xyz[self._lo : self._hi, 3:9]

    @property
    def _conf(self) -> np.ndarray:
        return self._xyz[self._lo : self._hi, 9]

    def _append(self, tracks: Tracks) -> None:
        """Append rows; the buffer grows by doubling and drops aged rows when it compacts."""
        n = len(tracks.t)
        if self._hi + n > self._cap:
            live = self._hi - self._lo
            cap = max(2 * (live + n), 4096)
            t, tid, xyz = np.empty(cap), np.empty(cap, dtype=np.int64), np.empty((cap, 10))
            t[:live], tid[:live], xyz[:live] = self._t, self._tid, self._xyz[self._lo : self._hi]
            self._tbuf, self._tidbuf, self._xyz = t, tid, xyz
            self._lo, self._hi, self._cap = 0, live, cap
        a, b = self._hi, self._hi + n
        self._tbuf[a:b] = tracks.t
        self._tidbuf[a:b] = tracks.track_id
        self._xyz[a:b, 0:3] = tracks.head
        self._xyz[a:b, 3:6] = tracks.lwrist
        self._xyz[a:b, 6:9] = tracks.rwrist
        self._xyz[a:b, 9] = np.clip(tracks.conf, 0.0, 1.0)
        self._hi = b
        hidden = np.isnan(tracks.lwrist[:, 0]) | np.isnan(tracks.rwrist[:, 0])
        self.frames_seen += n
        self.frames_hidden += float(np.count_nonzero(hidden))

    def hidden_rates(self) -> tuple[float, float]:
        """Chance that a wrist is out of sight in a frame: for the person whose hand is on a
        plate, and for anyone (the bystander's rate)."""
        return (self.touches_hidden / self.touches_seen, self.frames_hidden / self.frames_seen)

    # ---- ingest -------------------------------------------------------------------------

    def ingest_tracks(self, tracks: Tracks, now: float) -> None:
        if len(tracks.t):
            self._append(tracks)
            self._note_encounters(tracks)
        self._lo += int(np.searchsorted(self._t, now - KEEP_S))

    def gate_rows(self, gates: Gates) -> list[tuple[float, str, int, str, str]]:
        return [
            (float(t), str(e), int(k), str(a), str(r))
            for t, e, k, a, r in zip(
                gates.t, gates.event, gates.track_id, gates.account_id, gates.role, strict=True
            )
        ]

    def enter(self, t: float, track_id: int, account_id: str, role: str) -> None:
        self.persons[track_id] = Person(track_id, account_id, role, t)
        acct = self.accounts.setdefault(account_id, Account(account_id))
        acct.members.add(track_id)
        acct.inside += 1
        acct.shopper = acct.shopper or role == "shopper"

    def exit(self, t: float, track_id: int) -> Account | None:
        """Record an exit; return the account if this was its last person inside."""
        person = self.persons.get(track_id)
        if person is None or person.exit_t is not None:
            return None
        person.exit_t = t
        acct = self.accounts[person.account_id]
        acct.inside -= 1
        if acct.inside > 0:
            return None
        acct.exit_t = t
        return acct

    def _note_encounters(self, tracks: Tracks) -> None:
        """Remember pairs of people whose heads came close, and pairs whose hands met.

        One perception frame per ENCOUNTER_EVERY_S of stream time (whatever the frame rate)
        goes into one padded [frames, people] block and every pair is measured at once: heads
        within HANDOFF_M (they could have passed something), and a wrist of one within
        HAND_TOUCH_M of a wrist of the other (they did pass something, or at least touched
        hands).
        """
        # rows come in time order: a slot's rows are consecutive, its first frame leads them
        t = tracks.t
        slot = np.floor(t / ENCOUNTER_EVERY_S)
        new_slot = np.empty(len(t), dtype=bool)
        new_slot[0], new_slot[1:] = True, slot[1:] != slot[:-1]
        slot_of = np.cumsum(new_slot) - 1
        order = np.flatnonzero(t == t[new_slot][slot_of])  # rows of each slot's first frame
        f = slot_of[order]
        rank = np.arange(len(f)) - np.searchsorted(f, f, side="left")
        width = int(rank.max()) + 1 if len(rank) else 0
        if width < 2:
            return
        n = int(f.max()) + 1
        ids = np.full((n, width), -1, dtype=np.int64)
        head = np.full((n, width, 2), np.nan)
        wrists = np.full((n, width, 2, 3), np.nan)
        ids[f, rank] = tracks.track_id[order]
        when = np.empty(n)
        when[f] = tracks.t[order]
        head[f, rank] = tracks.head[order, :2]
        wrists[f, rank, 0] = tracks.lwrist[order]
        wrists[f, rank, 1] = tracks.rwrist[order]
        upper = np.arange(width)[:, None] < np.arange(width)[None, :]
        head_d = _length(head[:, :, None] - head[:, None, :])
        close = (head_d < HANDOFF_M) & upper
        if not close.any():
            return
        fi, i, j = np.nonzero(close)
        _first_times(self.encounters, ids[fi, i], ids[fi, j], when[fi])
        wi, wj = wrists[fi, i], wrists[fi, j]  # [pairs, 2 wrists, 3]
        hand_d = _length(wi[:, :, None] - wj[:, None, :])
        # a hand held out (not hanging at the side) is one that can pass something over
        out_i = _length(wi[:, :, :2] - head[fi, i][:, None, :]) > HAND_OUT_M
        out_j = _length(wj[:, :, :2] - head[fi, j][:, None, :]) > HAND_OUT_M
        held_out = out_i[:, :, None] | out_j[:, None, :]
        with np.errstate(invalid="ignore"):
            touch = ((hand_d < HAND_TOUCH_M) & held_out).reshape(len(fi), 4).any(axis=1)
        _first_times(self.hand_contacts, ids[fi[touch], i[touch]], ids[fi[touch], j[touch]],
                     when[fi[touch]])

    # ---- queries ------------------------------------------------------------------------

    def met(self, a: int, b: int, by: float = np.inf) -> bool:
        """Had their heads come close by time `by`?"""
        return self.encounters.get((min(a, b), max(a, b)), np.nan) <= by

    def touched_hands(self, a: int, b: int, by: float = np.inf) -> bool:
        """Had their hands met by time `by`?"""
        return self.hand_contacts.get((min(a, b), max(a, b)), np.nan) <= by

    def _rows(self, t0: float, t1: float) -> slice:
        t = self._t
        return slice(int(t.searchsorted(t0)), int(t.searchsorted(t1, "right")))

    def hands_near(self, plates: np.ndarray, t: float) -> np.ndarray:
        """Per plate: may a hand be on it at time t? Unseen wrists count near if the head is."""
        rows = self._rows(t - 0.3, t)
        if rows.stop <= rows.start:
            return np.zeros(len(plates), dtype=bool)
        wrists = self._wrists[rows].reshape(-1, 3)  # every wrist, left and right
        close = self.layout.may_be_near(wrists, plates, CONTACT_M)
        near = np.zeros(len(plates), dtype=bool)
        if close.any():
            d = self.layout.distance_to_plates(wrists[close], plates)
            near |= (d < CONTACT_M).any(axis=0)
        blind = np.isnan(self._lw[rows][:, 0]) & np.isnan(self._rw[rows][:, 0])
        if blind.any():
            d = self.layout.floor_distance_to_front(self._head[rows][blind], plates)
            near |= (d < 0.5 * REACH_M).any(axis=0)
        return near | self._hidden_on_plates(plates, t)

    def _hidden_on_plates(self, plates: np.ndarray, t: float) -> np.ndarray:
        """Per plate: is a wrist that was last seen on it, and has been hidden since (for at
        most WRIST_MEMORY_S), perhaps still there?"""
        near = np.zeros(len(plates), dtype=bool)
        rows = self._rows(t - WRIST_MEMORY_S, t)
        if rows.stop <= rows.start:
            return near
        tid = self._tid[rows]
        recent = self._t[rows] >= t - 0.2  # the latest frames
        for wrist in (self._lw[rows], self._rw[rows]):
            hidden = np.isnan(wrist[:, 0])
            hidden_now = hidden & recent
            if not hidden_now.any():
                continue
            # only people whose wrist is out of sight now can have one hidden on a plate
            theirs = np.zeros(int(tid.max()) + 1, dtype=bool)
            theirs[tid[hidden_now]] = True
            seen = np.flatnonzero(~hidden & theirs[tid])
            if len(seen) == 0:
                continue
            close = self.layout.may_be_near(wrist[seen], plates, CONTACT_M)
            if not close.any():
                continue
            on = np.zeros((len(seen), len(plates)), dtype=bool)
            on[close] = self.layout.distance_to_plates(wrist[seen[close]], plates) < CONTACT_M
            touching = on.any(axis=1)
            if not touching.any():
                continue
            for person in np.unique(tid[seen[touching]]).tolist():
                mine = np.flatnonzero(tid == person)
                if not np.isnan(wrist[mine[-1], 0]):
                    continue  # seen now, and not on the plate within the last moment
                k = int(np.searchsorted(seen, mine[-1])) - 1  # their wrist's last sighting
                while k >= 0 and tid[seen[k]] != person:
                    k -= 1
                if k >= 0:
                    near |= on[k]
        return near

    def attribute(self, plate: int, t0: float, t1: float,
                  core: tuple[float, float] | None = None, learn: bool = False) -> Attribution:
        """Log-likelihood, per person seen in [t0, t1], that their hand made the change.

        `core`: the span in which the plate's load was changing, when the toucher's hand was
        on it. Without a seen wrist, what tells is where the head was: the toucher stands
        within reach for the whole of that span, so the head is judged by its median distance
        over it (someone walking past comes within reach only for a moment).

        A hand inside a shelf is often out of the camera's sight: a wrist hidden while the load
        changes counts for the person by how much more often the toucher's wrist is hidden than
        anyone's (both rates learnt from the recording; `learn`: this change updates them).
        """
        rows = self._rows(t0, t1)
        plates = np.array([plate])
        head_d = self.layout.floor_distance_to_front(self._head[rows], plates)[:, 0]
        near = head_d < NEAR_M
        tid = self._tid[rows][near]
        if len(tid) == 0:
            return Attribution(np.empty(0, dtype=np.int64), np.empty(0), [])
        head_d = head_d[near]
        ids, inv = np.unique(tid, return_inverse=True)
        k = len(ids)
        wrists = self._wrists[rows][near]
        lw_d, rw_d = (d[:, 0] for d in self._wrist_distances(wrists, plates))
        wrist_d = np.fmin(lw_d, rw_d)
        blind = np.isnan(lw_d) | np.isnan(rw_d)
        conf = self._conf[rows][near]
        # each wrist read trusted as far as its conf says, and as far as it is this person's:
        # a read that their arm cannot make but a neighbour's can is the neighbour's wrist,
        # mixed up in the crowd
        lw_own, rw_own = _own_wrist_shares(self._t[rows][near], self._head[rows][near][:, :2],
                                           wrists)
        lw_conf, rw_conf = conf * lw_own, conf * rw_own
        conf = np.where(np.isnan(lw_d) | (rw_d < lw_d), rw_conf, lw_conf)  # the nearer one's
        best_head = np.full(k, np.inf)
        np.minimum.at(best_head, inv, head_d)
        if core is not None:
            t = self._t[rows][near]
            inside = (t >= core[0]) & (t <= core[1])
            best_head = np.where(np.bincount(inv[inside], minlength=k) > 0,
                                 _group_median(head_d[inside], inv[inside], k), best_head)
        hand_d = np.full((k, 2), np.inf)
        np.fmin.at(hand_d[:, 0], inv, lw_d)
        np.fmin.at(hand_d[:, 1], inv, rw_d)
        best_wrist = hand_d.min(axis=1)
        # the best single read of either wrist, each read trusted as far as its conf says
        ll_wrist = np.full(k, -np.inf)
        np.fmax.at(ll_wrist, inv, np.fmax(_wrist_read_loglik(lw_d, lw_conf),
                                          _wrist_read_loglik(rw_d, rw_conf)))
        n_rows = np.bincount(inv, minlength=k)
        n_blind = np.bincount(inv, weights=blind.astype(np.float64), minlength=k)
        with np.errstate(invalid="ignore"):
            on = wrist_d < CONTACT_M
        # A frame tells whether this person's hand was on the plate if a seen wrist is on it,
        # or if both wrists are seen off it; one wrist seen off it and the other hidden could
        # be the free hand while the hidden one takes the unit: that frame tells nothing.
        told = on | ~blind
        # the hand is on the plate while its load changes: before that it is on its way
        if core is not None:
            t_all = self._t[rows][near]
            in_core = (t_all >= core[0]) & (t_all <= core[1])
            told &= in_core
            hid = blind & ~on & in_core
            n_core = np.bincount(inv, weights=in_core.astype(np.float64), minlength=k)
            hidden_share = np.bincount(inv, weights=hid.astype(np.float64), minlength=k
                                       ) / np.maximum(n_core, 1.0)
            if learn and k == 1 and n_core[0] > 0:
                self.touches_seen += 1.0
                self.touches_hidden += float(hidden_share[0])
            # per frame of the change: a wrist out of sight (and none seen on the plate), as
            # likely for the toucher as learnt, for a bystander as for anyone; a hand inside a
            # shelf is hidden at least as often as one anywhere else
            q_touch, q_any = self.hidden_rates()
            q_any = min(max(q_any, 0.01), 0.99)
            q_touch = min(max(q_touch, q_any), 0.99)
            frame_ll = np.where(told, _contact_read_loglik(on, conf)
                                + np.log((1.0 - q_touch) / (1.0 - q_any)),
                                np.where(hid, np.log(q_touch / q_any), 0.0))
            n_seen = n_core
        else:
            n_seen = np.bincount(inv, weights=told.astype(np.float64), minlength=k)
            frame_ll = np.where(told, _contact_read_loglik(on, conf), 0.0)
        ll_head = LOG_BYSTANDER_DENSITY + LOG_HEAD_RATIO - 0.5 * (
            np.maximum(best_head - REACH_M, 0.0) / HEAD_SD_M) ** 2
        # the frames are correlated: their mean log-likelihood ratio counts as CONTACT_LOOKS
        contact = CONTACT_LOOKS * np.bincount(inv, weights=frame_ll, minlength=k) / np.maximum(
            n_seen, 1.0)
        loglik = np.empty(k)
        evidence: list[str] = []
        for i in range(k):
            if np.isfinite(best_wrist[i]) and n_blind[i] <= 0.2 * n_rows[i]:
                loglik[i], kind = ll_wrist[i], "wrist"
            elif np.isfinite(best_wrist[i]):
                loglik[i], kind = max(ll_wrist[i], ll_head[i]), "wrist+head"
            else:
                last = self._last_wrist_distance(int(ids[i]), plate, t0)
                ll_last = _half_normal(last, LAST_WRIST_SD_M) if last is not None else -np.inf
                loglik[i] = max(ll_head[i], ll_last)
                kind = "last-wrist" if ll_last > ll_head[i] else "head"
            evidence.append(kind)
        head_ll = np.where(n_blind > 0, ll_head, -np.inf)
        return Attribution(ids.astype(np.int64), loglik, evidence, contact, hand_d, head_ll)

    def _wrist_distances(self, wrists: np.ndarray, plates: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Distances [N, M] of the left and of the right wrists of buffer rows `wrists` [N, 6]
        to the plates, in one query (its cost is mostly per call)."""
        d = self.layout.distance_to_plates(wrists.reshape(-1, 3), plates)
        d = d.reshape(len(wrists), 2, len(plates))
        return d[:, 0], d[:, 1]

    def contact_gaps(self, plates: np.ndarray, t0: float, t1: float) -> list[tuple[float, float]]:
        """Spans inside [t0, t1], between two hand contacts, when no hand could have been on
        any of `plates` (a plate and the neighbours that press on it through the shelf): no seen
        wrist within CONTACT_M and no unseen wrist of someone within reach. Between contacts
        the plate carries only its load, so its level can be read."""
        rows = self._rows(t0, t1)
        head = self._head[rows]
        close = np.flatnonzero(self.layout.may_be_near(head, plates, NEAR_M))
        head_d = self.layout.floor_distance_to_front(head[close], plates).min(axis=1)
        near = head_d < NEAR_M
        if not near.any():
            return []
        t = self._t[rows][close[near]]
        lw_d, rw_d = (d.min(axis=1)
                      for d in self._wrist_distances(self._wrists[rows][close[near]], plates))
        touching = (lw_d < CONTACT_M + GAP_MARGIN_M) | (rw_d < CONTACT_M + GAP_MARGIN_M)
        unseen = (np.isnan(lw_d) | np.isnan(rw_d)) & (head_d[near] < REACH_M)
        # frames with a hand maybe on a plate, in time order (one frame may repeat, per person:
        # a zero step, never a gap)
        hit = t[touching | unseen]
        if len(hit) < 2:
            return []
        wide = np.flatnonzero(np.diff(hit) >= MIN_GAP_S)
        return [(float(hit[i]), float(hit[i + 1])) for i in wide]

    def contact_spans(self, plate: int, t0: float, t1: float) -> dict[int, tuple[float, float]]:
        """Per person, the first and last time in [t0, t1] a seen wrist was on the plate."""
        rows = self._rows(t0, t1)
        plates = np.array([plate])
        lw_d, rw_d = (d[:, 0] for d in self._wrist_distances(self._wrists[rows], plates))
        on = (lw_d < CONTACT_M + GAP_MARGIN_M) | (rw_d < CONTACT_M + GAP_MARGIN_M)
        spans: dict[int, tuple[float, float]] = {}
        for tid, t in zip(self._tid[rows][on].tolist(), self._t[rows][on].tolist(), strict=True):
            first = spans[tid][0] if tid in spans else t
            spans[tid] = (first, t)
        return spans

    def arrivals(self, plate: int, t: float) -> dict[int, tuple[float, float]]:
        """Per person whose wrist was seen on the plate when its load started to change at t
        (and not seen off it since), the span in which that hand arrived: from the last frame
        both wrists were seen off the plate (-inf: none within ARRIVAL_LOOKBACK_S) to the first
        frame after it that one was seen on it."""
        tid, when, on, off = self._on_off(plate, t - ARRIVAL_LOOKBACK_S, t)
        out: dict[int, tuple[float, float]] = {}
        for person in np.unique(tid[on]).tolist():
            mine = tid == person
            t_off = when[mine & off]
            a = float(t_off[-1]) if len(t_off) else -np.inf
            t_on = when[mine & on & (when > a)]
            if len(t_on):
                out[person] = (a, float(t_on[0]))
        return out

    def departures(self, plate: int, t0: float, t1: float) -> dict[int, tuple[float, float]]:
        """Per person whose wrist was seen on the plate within [t0, t1], the span in which that
        hand first left it: from the last frame one was seen on it to the first frame after
        that both wrists were seen off the plate (inf: none seen yet)."""
        tid, when, on, off = self._on_off(plate, t0, t1)
        out: dict[int, tuple[float, float]] = {}
        for person in np.unique(tid[on]).tolist():
            mine = tid == person
            first_on = float(when[mine & on][0])
            t_off = when[mine & off & (when > first_on)]
            b = float(t_off[0]) if len(t_off) else np.inf
            out[person] = (float(when[mine & on & (when < b)][-1]), b)
        return out

    def _on_off(self, plate: int, t0: float, t1: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Buffer rows in [t0, t1] (track ids, times) with a wrist seen on the plate, and with
        both wrists seen clearly off it."""
        rows = self._rows(t0, t1)
        lw_d, rw_d = (d[:, 0] for d in self._wrist_distances(self._wrists[rows],
                                                              np.array([plate])))
        with np.errstate(invalid="ignore"):
            on = (lw_d < CONTACT_M) | (rw_d < CONTACT_M)
            off = (lw_d >= CONTACT_M + GAP_MARGIN_M) & (rw_d >= CONTACT_M + GAP_MARGIN_M)
        return self._tid[rows], self._t[rows], on, off

    def _last_wrist_distance(self, track_id: int, plate: int, t0: float) -> float | None:
        rows = self._rows(t0 - LAST_WRIST_MAX_AGE_S, t0)
        mine = np.flatnonzero(self._tid[rows] == track_id) + rows.start
        for r in mine[::-1].tolist():
            for w in (self._lw[r], self._rw[r]):
                if not np.isnan(w[0]):
                    d = self.layout.distance_to_plates(w[None, :], np.array([plate]))
                    return float(d[0, 0])
        return None

    def was_near(self, track_ids: set[int], plate: int, t0: float, t1: float) -> bool:
        """Could any of these people have had a hand on the plate during [t0, t1]? A seen wrist
        within REACHED_M of it, or an unseen wrist while the head stood within reach."""
        rows = self._rows(t0, t1)
        mine = np.isin(self._tid[rows], np.fromiter(track_ids, dtype=np.int64))
        if not mine.any():
            return False
        plates = np.array([plate])
        head_d = self.layout.floor_distance_to_front(self._head[rows][mine], plates)[:, 0]
        if not (head_d < NEAR_M).any():
            return False
        lw_d, rw_d = (d[:, 0] for d in self._wrist_distances(self._wrists[rows][mine], plates))
        reached = (lw_d < REACHED_M) | (rw_d < REACHED_M)
        unseen = (np.isnan(lw_d) | np.isnan(rw_d)) & (head_d < REACH_M)
        return bool((reached | unseen).any())


def _first_times(seen: dict[tuple[int, int], float], a: np.ndarray, b: np.ndarray,
                 t: np.ndarray) -> None:
    """Add each pair's earliest time in `t` to `seen`, unless it is already there."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    _, first = np.unique(lo * (int(hi.max(initial=0)) + 1) + hi, return_index=True)
    for x, y, when in zip(lo[first].tolist(), hi[first].tolist(), t[first].tolist(),
                          strict=True):
        seen.setdefault((x, y), when)


def _length(v: np.ndarray) -> np.ndarray:
    """Euclidean length along the last axis (2 or 3 coordinates), summed in the order
    np.linalg.norm sums them, without the cost of reducing a short axis."""
    sq = v * v
    total = sq[..., 0] + sq[..., 1]
    if v.shape[-1] == 3:
        total += sq[..., 2]
    return np.sqrt(total)


def _group_median(x: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    """Per group 0..k-1 the (lower) median of x; NaN for an empty group."""
    order = np.lexsort((x, group))
    counts = np.bincount(group, minlength=k)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(k, np.nan)
    has = counts > 0
    out[has] = x[order][starts[has] + (counts[has] - 1) // 2]
    return out


def _contact_read_loglik(on: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Per read, log-likelihood ratio, toucher against a bystander whose hand came close, of
    a wrist read on the plate (`on`) or off it. A spoilt read (chance 1 - conf) is on the plate
    as often as a bystander's would be."""
    toucher = conf * TOUCHER_ON_SHARE + (1.0 - conf) * BYSTANDER_ON_SHARE
    return np.where(on, np.log(toucher / BYSTANDER_ON_SHARE),
                    np.log((1.0 - toucher) / (1.0 - BYSTANDER_ON_SHARE)))


def _within_reach(r: np.ndarray) -> np.ndarray:
    """Chance that a wrist read r metres from a head on the floor is within that person's
    reach: a hand reaches REACH_M from the head; beyond, the read's noise (WRIST_SD_M) fades
    it out."""
    return np.exp(-0.5 * (np.maximum(r - REACH_M, 0.0) / WRIST_SD_M) ** 2)


def _own_wrist_shares(t: np.ndarray, head_xy: np.ndarray, wrists: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per row (time-ordered, one per person and frame; wrists [N, 6]) the chance that its
    left and its right wrist read are that person's own: not, if the read is beyond their
    reach and within the reach of someone else seen in the same frame. (A read beyond
    everyone's reach is as good as its conf says.) NaN where the wrist is unseen."""
    n = len(t)
    frame = np.zeros(n, dtype=np.int64)
    if n > 1:
        frame[1:] = np.cumsum(t[1:] != t[:-1])
    rank = np.arange(n) - np.searchsorted(frame, frame, side="left")
    heads = np.full((int(frame[-1]) + 1 if n else 0, int(rank.max()) + 1 if n else 0, 2), np.nan)
    heads[frame, rank] = head_xy
    others = heads[frame]  # [N, W, 2]: everyone's head in the row's frame
    others[np.arange(n), rank] = np.nan  # ... but its own
    shares = []
    for w in (wrists[:, 0:2], wrists[:, 3:5]):
        own = _within_reach(_length(w - head_xy))
        with np.errstate(invalid="ignore"):
            theirs = np.nan_to_num(_within_reach(_length(w[:, None, :] - others)))
        shares.append(1.0 - (1.0 - own) * theirs.max(axis=1, initial=0.0))
    return shares[0], shares[1]


def _wrist_read_loglik(d: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Log-likelihood, per read, of a wrist's distance d to the plate if its hand made the
    change. The perception layer's `conf` is the chance that the read is right; a spoilt read
    lands anywhere, as a bystander's would (flat: LOG_BYSTANDER_DENSITY). NaN where unseen."""
    good = np.exp(_half_normal(d, WRIST_SD_M))
    return np.log(conf * good + (1.0 - conf) * np.exp(LOG_BYSTANDER_DENSITY))


def _half_normal(d: np.ndarray | float, sd: float) -> np.ndarray:
    """Log density of a distance under a half-normal of scale sd (constant terms kept)."""
    d = np.asarray(d, dtype=np.float64)
    return -0.5 * (d / sd) ** 2 - np.log(sd)
