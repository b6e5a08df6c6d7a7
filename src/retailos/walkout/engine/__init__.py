"""The walk-out engine: a pure-numpy library that turns shelf weights and body tracks into carts.

It reads no files and touches no database: `Engine(store)` takes the parsed store.json, `feed`
takes recording chunks in time order, and receipts come out as plain dicts.
"""

from retailos.walkout.engine.engine import Engine

__all__ = ["Engine"]
