"""``trending scrape …``: the scraper's sources, by hand."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run or inspect the scraper's sources by hand.", no_args_is_help=True)
