"""A walk-out store simulator: shelves of weighing plates, shoppers, perception, ground truth.

`simulate(suite, seed, minutes, out)` writes a recording per shared/specs/store-recording.md,
the same files for the same seed. What it models, module by module:

- layout: gondola faces along aisles (2.1 m), shelves 0.2-1.8 m, plates 0.3-0.6 m wide; the
  floor is turned by a random multiple of 90 degrees per seed.
- catalogue: Complete Journey shelf products, unit weights from package sizes (many collide),
  prices paid, real baskets restricted to the assortment.
- people: lone shoppers, families (together or split up) on one account, friends on two
  accounts, staff who restock and face shelves; picks of 1-3 units, put-backs on the own or
  another plate, hand-offs, touches, long holds; nobody stands inside anyone else.
- stock: every unit has its own true weight; receipts follow the units that leave the store.
- perception: head and wrists at 15 fps with correlated noise, occluded wrists, pose
  outliers and dropped frames; a reaching wrist rests at the plate's front edge.
- physics: 60 Hz readings with tare, drift, noise, hand pressure and ringing, neighbour
  coupling, knocks, lost rows, NaNs and glitches.
"""

from retailos.sim.store.simulate import simulate
from retailos.sim.store.suites import SUITES, Suite, get_suite

__all__ = ["SUITES", "Suite", "get_suite", "simulate"]
