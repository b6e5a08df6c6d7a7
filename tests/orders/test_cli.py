from __future__ import annotations

import pytest
from typer.testing import CliRunner

from retailos.cli import app


@pytest.mark.parametrize("args", [
    ["--key", "rk_x", "--rate", "0"],
    ["--key", "rk_x", "--cancel-rate", "1.5"],
    [],
])
def test_simulate_shoppers_refuses_bad_options_with_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["orders", "simulate-shoppers", *args])
    assert result.exit_code == 2
    assert "error" in result.output


def test_settle_abandoned_refuses_a_bad_window_and_settles_nothing_on_a_quiet_store(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retailos.core.settings import get_settings

    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        bad = CliRunner().invoke(app, ["orders", "settle-abandoned", "--hours", "0"])
        ok = CliRunner().invoke(app, ["orders", "settle-abandoned", "--hours", "48"])
    finally:
        get_settings.cache_clear()
    assert (bad.exit_code, "error" in bad.output) == (2, True)
    assert ok.exit_code == 0, ok.output
    assert "0 charge(s)" in ok.output
