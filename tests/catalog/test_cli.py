"""`retailos catalog import completejourney`: one clear line for a bad tenant, counts otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from retailos.cli import app
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.settings import get_settings
from retailos.tenants import service as tenants


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_unknown_tenant_is_one_line_and_exit_code_2(cli_database: str) -> None:
    result = CliRunner().invoke(app, ["catalog", "import", "completejourney",
                                      "--tenant", "ten_nobody"])
    assert result.exit_code == 2
    assert "error: no tenant ten_nobody" in result.output
    assert "Traceback" not in result.output


def test_import_prints_counts_and_a_rerun_changes_nothing(
    cli_database: str, db: Database, clock: ManualClock
) -> None:
    with db.transaction() as s:
        tenant_id = tenants.create_tenant(s, clock, "retailer", "CLI Grocer").id
    args = ["catalog", "import", "completejourney", "--tenant", tenant_id, "--limit", "25"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "25 products: 25 created, 0 updated, 0 unchanged" in first.output
    second = CliRunner().invoke(app, args)
    assert "25 products: 0 created, 0 updated, 25 unchanged" in second.output
