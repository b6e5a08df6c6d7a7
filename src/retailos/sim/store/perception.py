"""What overhead perception reports: head and wrists of every person at 15 frames a second.

Bodies follow their group's planned path; a reaching wrist really travels to the plate's front
edge (or to the other person's hand) and rests there while the load changes. Positions carry
perception noise, wrists drop out for short spans, and conf falls when they do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retailos.sim.store.layout import Layout
from retailos.sim.store.people import Member, Plan, Reach
from retailos.sim.store.suites import Suite
from retailos.walkout.recording import Tracks

FPS = 15.0
SMOOTH_S = 0.3  # people round corners and ease into stops
HEAD_NOISE_M = 0.02
WRIST_NOISE_M = 0.03
KEEP_RIGHT_M = 0.25
CROWD_M = 0.7  # closer than this to someone else, perception starts to suffer


def render_tracks(plan: Plan, layout: Layout, suite: Suite, rng: np.random.Generator) -> Tracks:
    bodies = [_body(plan, k) for k in range(len(plan.members))]
    by_member: dict[int, list[Reach]] = {}
    for reach in plan.reaches:
        by_member.setdefault(reach.member, []).append(reach)

    crowding = _nearest_other(bodies)
    parts: list[tuple[np.ndarray, ...]] = []
    for k, member in enumerate(plan.members):
        t, pos, heading, _ = bodies[k]
        h = member.height_m
        moving = np.clip(np.linalg.norm(np.gradient(pos, axis=0), axis=1) * FPS / 1.2, 0, 1)
        left = np.stack([-heading[:, 1], heading[:, 0]], axis=1)
        phase = rng.uniform(0, 2 * np.pi)
        swing = (0.12 * np.sin(2 * np.pi * 0.9 * t + phase) * moving)[:, None]
        head = np.column_stack(
            [pos + 0.05 * heading, h - 0.12 + 0.015 * np.sin(2 * np.pi * 1.8 * t + phase) * moving]
        )
        wrists = [
            np.column_stack([pos + 0.2 * left + swing * heading, np.full(len(t), 0.45 * h)]),
            np.column_stack([pos - 0.2 * left - swing * heading, np.full(len(t), 0.45 * h)]),
        ]  # fmt: skip
        for reach in by_member.get(k, []):
            _apply_reach(reach, plan, layout, bodies, t, pos, heading, head, wrists, h, rng)
        parts.append(_perceive(member, t, head, wrists, crowding[k], suite, rng))

    columns = [np.concatenate([p[i] for p in parts]) if parts else np.zeros(0) for i in range(6)]
    t_all, ids, conf, head_all, lw_all, rw_all = columns
    if not parts:
        head_all = lw_all = rw_all = np.zeros((0, 3))
    order = np.lexsort((ids, t_all))
    return Tracks(
        t=t_all[order].astype(np.float64),
        track_id=ids[order].astype(np.int64),
        conf=conf[order].astype(np.float32),
        head=head_all[order].astype(np.float32),
        lwrist=lw_all[order].astype(np.float32),
        rwrist=rw_all[order].astype(np.float32),
    )


def _nearest_other(bodies: Sequence[tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Per member and frame, the floor distance to the nearest other person (inf if alone)."""
    empty = np.zeros(0, dtype=np.int64)
    frame = np.concatenate([np.round(b[0] * FPS).astype(np.int64) for b in bodies] or [empty])
    xy = np.concatenate([b[1] for b in bodies] or [np.zeros((0, 2))])
    owner = np.concatenate([np.full(len(b[0]), k) for k, b in enumerate(bodies)] or [empty])
    nearest = np.full(len(frame), np.inf)
    order = np.argsort(frame, kind="stable")
    cuts = np.flatnonzero(np.diff(frame[order])) + 1
    for rows in np.split(order, cuts):
        if len(rows) < 2:
            continue
        d = np.linalg.norm(xy[rows, None, :] - xy[None, rows, :], axis=2)
        np.fill_diagonal(d, np.inf)
        nearest[rows] = d.min(axis=1)
    return [nearest[owner == k] for k in range(len(bodies))]


def _frames(member: Member) -> np.ndarray:
    # Strictly inside the visit, so rounding to 0.1 ms cannot push a row past a gate event.
    first = int(np.ceil((member.t_enter + 0.002) * FPS))
    last = int(np.floor((member.t_exit - 0.002) * FPS))
    return np.arange(first, last + 1) / FPS


def _smooth(values: np.ndarray, sigma_frames: float) -> np.ndarray:
    radius = int(3 * sigma_frames)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, [(radius, radius)] + [(0, 0)] * (values.ndim - 1), mode="edge")
    if values.ndim == 1:
        return np.convolve(padded, kernel, mode="valid")
    return np.stack(
        [np.convolve(padded[:, j], kernel, mode="valid") for j in range(values.shape[1])], axis=1
    )


def _body(plan: Plan, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frame times, floor position [n,2], heading [n,2] and dwell weight [n] of member k."""
    member = plan.members[k]
    group = plan.groups[plan.group_of_member[k]]
    t = _frames(member)
    u = t - member.lag_s
    key_t = np.asarray(group.key_t)
    key_xy = np.asarray(group.key_xy)
    anchor = np.column_stack([np.interp(u, key_t, key_xy[:, 0]), np.interp(u, key_t, key_xy[:, 1])])
    dwell = np.zeros(len(t))
    facing = np.full((len(t), 2), np.nan)
    for d0, d1, f in group.dwells:
        inside = (u >= d0) & (u <= d1)
        dwell[inside] = 1.0
        facing[inside] = f
    sigma = SMOOTH_S * FPS
    weight = _smooth(dwell, sigma) if len(t) > 1 else dwell
    pos = anchor + member.offset[None, :] * weight[:, None]
    if len(t) > 1:
        pos = _smooth(pos, sigma)
    velocity = np.gradient(pos, axis=0) * FPS if len(t) > 1 else np.zeros_like(pos)
    speed = np.linalg.norm(velocity, axis=1)
    heading = np.full((len(t), 2), np.nan)
    walking = speed > 0.3
    heading[walking] = velocity[walking] / speed[walking, None]
    at_shelf = ~np.isnan(facing[:, 0])
    heading[at_shelf] = -facing[at_shelf]
    # Hold the last known heading through slow moments; start facing into the store.
    last = np.array([0.0, 1.0])
    for i in range(len(t)):
        if np.isnan(heading[i, 0]):
            heading[i] = last
        else:
            last = heading[i]
    if len(t) > 1:
        heading = _smooth(heading, sigma / 2)
        heading /= np.maximum(np.linalg.norm(heading, axis=1, keepdims=True), 1e-9)
    # Walkers keep to the right of the aisle, so people pass each other instead of through.
    right = np.stack([heading[:, 1], -heading[:, 0]], axis=1)
    pos = pos + KEEP_RIGHT_M * right * (1.0 - weight)[:, None]
    return t, pos, heading, weight


def _min_jerk(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x**2)


def _reach_profile(reach: Reach, t: np.ndarray) -> np.ndarray:
    """0 at rest, 1 while the hand is at the target, min-jerk in between."""
    out = np.zeros(len(t))
    up = (t >= reach.t_start) & (t < reach.t_arrive)
    out[up] = _min_jerk((t[up] - reach.t_start) / max(reach.t_arrive - reach.t_start, 1e-3))
    out[(t >= reach.t_arrive) & (t <= reach.t_leave)] = 1.0
    down = (t > reach.t_leave) & (t <= reach.t_end)
    out[down] = 1.0 - _min_jerk((t[down] - reach.t_leave) / max(reach.t_end - reach.t_leave,
                                                                1e-3))  # fmt: skip
    return out


def _position_at(body: tuple[np.ndarray, ...], when: float) -> np.ndarray:
    t, pos = body[0], body[1]
    return np.array([np.interp(when, t, pos[:, 0]), np.interp(when, t, pos[:, 1])])


def _apply_reach(
    reach: Reach,
    plan: Plan,
    layout: Layout,
    bodies: Sequence[tuple[np.ndarray, ...]],
    t: np.ndarray,
    pos: np.ndarray,
    heading: np.ndarray,
    head: np.ndarray,
    wrists: list[np.ndarray],
    height: float,
    rng: np.random.Generator,
) -> None:
    if reach.plate is not None:
        p = reach.plate
        facing = layout.facing[p]
        along = np.array([-facing[1], facing[0]])
        edge = layout.front_edge(p)
        target = np.array([
            *(edge[:2] - facing * rng.uniform(0.0, 0.1)
              + along * rng.uniform(-0.35, 0.35) * layout.width[p]),
            edge[2] + rng.uniform(0.02, 0.07),
        ])  # fmt: skip
    else:
        partner = plan.members[reach.partner if reach.partner is not None else reach.member]
        mine = _position_at(bodies[reach.member], reach.t_change)
        theirs = _position_at(
            bodies[reach.partner if reach.partner is not None else reach.member], reach.t_change
        )
        target = np.array([*(mine + theirs) / 2, 0.28 * (height + partner.height_m)])
    profile = _reach_profile(reach, t)
    active = profile > 0
    if not np.any(active):
        return
    i = int(np.argmin(np.abs(t - reach.t_change)))
    to_target = target[:2] - pos[i]
    left = np.array([-heading[i, 1], heading[i, 0]])
    hand = 0 if float(to_target @ left) > 0 else 1
    if rng.uniform() < 0.15:
        hand = 1 - hand  # people do not always use the nearer hand
    s = profile[active, None]
    tremor = rng.normal(0.0, 0.008, (int(active.sum()), 3))
    wrist = wrists[hand]
    wrist[active] = (1 - s) * wrist[active] + s * (target[None, :] + tremor * s)
    # Bend down for low shelves, lean towards the shelf.
    crouch = max(0.0, 0.55 * height - target[2]) * 0.75
    head[active, 2] -= crouch * profile[active]
    lean = target[:2] - pos[active]
    lean /= np.maximum(np.linalg.norm(lean, axis=1, keepdims=True), 1e-6)
    head[active, :2] += 0.12 * lean * s


def _perceive(
    member: Member,
    t: np.ndarray,
    head: np.ndarray,
    wrists: list[np.ndarray],
    nearest_m: np.ndarray,
    suite: Suite,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    n = len(t)

    def noise(sigma: float) -> np.ndarray:
        # Tracker noise is correlated over a few frames, not white.
        raw = rng.normal(0.0, sigma * 1.63, (n + 2, 3))
        return 0.25 * raw[:-2] + 0.5 * raw[1:-1] + 0.25 * raw[2:]

    head_seen = head + noise(HEAD_NOISE_M)
    seen = [w + noise(WRIST_NOISE_M) for w in wrists]
    conf = np.clip(rng.uniform(0.78, 0.97) + rng.normal(0.0, 0.03, n), 0.05, 1.0)
    duration = n / FPS
    for w in seen:
        for _ in range(rng.poisson(suite.wrist_occlusion_per_s * duration)):
            start = rng.uniform(t[0], t[-1]) if n else 0.0
            gone = (t >= start) & (t < start + rng.uniform(0.2, 1.3))
            w[gone] = np.nan
            conf[gone] -= 0.12
    # In a crowd, bodies hide each other's hands and the tracker is less sure.
    close = nearest_m < CROWD_M
    conf[close] -= 0.2 * (CROWD_M - nearest_m[close]) / CROWD_M
    for w in seen:
        hidden = np.convolve(close & (rng.uniform(size=n) < 0.02), np.ones(5), mode="same") > 0
        w[hidden] = np.nan
    for w in seen:
        # Pose models now and then put a wrist on the wrong limb or the shelf edge.
        astray = rng.uniform(size=n) < suite.wrist_outlier_rate
        w[astray] += rng.normal(0.0, 0.25, (int(astray.sum()), 3))
        conf[astray] -= 0.2
    conf = np.clip(conf, 0.05, 1.0)
    keep = rng.uniform(size=n) >= suite.frame_drop_rate
    if n:
        keep[[0, -1]] = True  # first and last sighting stay: they bound the visit
    ids = np.full(n, member.track_id)
    return t[keep], ids[keep], conf[keep], head_seen[keep], seen[0][keep], seen[1][keep]
