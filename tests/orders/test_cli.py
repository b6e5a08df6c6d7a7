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
