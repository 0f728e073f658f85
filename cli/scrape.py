"""``trending scrape …``: the scraper's sources, by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from services.scraper.parsers import PARSERS, LayoutError, to_observed
from trendkit.contracts import Provenance

app = typer.Typer(help="Run or inspect the scraper's sources by hand.", no_args_is_help=True)


@app.command()
def parse(
    source: Annotated[str, typer.Option("--source", help="Parser name, e.g. imdb_moviemeter.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A saved chart page.")],
) -> None:
    """Parse a saved chart page; print one ``titles.raw`` event (JSON) per row.

    observed_at is the file's modification time in UTC: the closest thing a saved page has
    to "when the site showed it", and stable, so parsing the same file twice yields the
    same event ids.
    """
    parser = PARSERS.get(source)
    if parser is None:
        typer.echo(f"unknown source {source!r}; known: {', '.join(sorted(PARSERS))}", err=True)
        raise typer.Exit(code=2)
    content = file.read_bytes()
    try:
        entries = parser.parse(content, base_url=parser.default_base_url)
    except LayoutError as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(code=1) from error
    observed_at = datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)
    scraped_by = Provenance(
        provider="html", model=source, version=hashlib.sha256(content).hexdigest()[:12]
    )
    for entry in entries:
        event = to_observed(entry, source=source, observed_at=observed_at, scraped_by=scraped_by)
        typer.echo(event.model_dump_json())
