"""A walk-out store simulator: shelves of weighing plates, shoppers, perception, ground truth.

`simulate(suite, seed, minutes, out)` writes a recording per shared/specs/store-recording.md.
"""

from retailos.sim.store.simulate import simulate
from retailos.sim.store.suites import SUITES, Suite, get_suite

__all__ = ["SUITES", "Suite", "get_suite", "simulate"]
