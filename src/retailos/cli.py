"""The `retailos` command."""

from __future__ import annotations

import typer

from retailos.walkout.cli import app as walkout_app

app = typer.Typer(help="RetailOS: a retail operating system.", no_args_is_help=True)
app.add_typer(walkout_app, name="walkout", help="Walk-out stores: simulate, replay, score, report.")
