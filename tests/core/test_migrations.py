from __future__ import annotations

from retailos.core.db import Database
from retailos.core.migrate import drift


def test_migrations_match_the_models(db: Database) -> None:
    assert drift(db) == []
