from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from retailos.cli import app
from retailos.core.db import Database
from retailos.core.migrate import drift
from retailos.core.settings import get_settings


def test_migrations_match_the_models(db: Database) -> None:
    assert drift(db) == []


def test_demo_refuses_a_database_of_an_older_pre_release_schema(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.engine.begin() as conn:  # what an earlier migration 0001 left behind
        conn.execute(text("CREATE TABLE retired_table (id INTEGER PRIMARY KEY)"))
    monkeypatch.setenv("RETAILOS_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--no-shoppers", "--limit", "1"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1
    assert "older pre-release schema" in result.output
