"""``trending scrape …``: the scraper's sources, by hand."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from services.scraper.cycle import store_and_publish
from services.scraper.fetch import FetchError, PoliteFetcher
from services.scraper.parsers import PARSERS, LayoutError, to_observed
from services.scraper.settings import ScraperSettings
from services.scraper.sources import observe_source
from services.scraper.tmdb import TmdbError
from trendkit.broker import ensure_topics
from trendkit.contracts import PIPELINE_TOPICS, Provenance, TitleObserved, now_utc
from trendkit.db.database import Database
from trendkit.objectstore import open_object_store
from trendkit.publish import BatchPublisher

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


@app.command()
def once(
    source: Annotated[
        str,
        typer.Option("--source", help="tmdb, or a configured chart page (SCRAPER_HTML_SOURCES)."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the observations; publish and store nothing.")
    ] = False,
) -> None:
    """Run one fetch cycle of a source: observe, resolve, archive, store, publish."""
    settings = ScraperSettings()
    if source != "tmdb" and source not in settings.html_sources:
        known = ["tmdb", *sorted(settings.html_sources)]
        typer.echo(
            f"unknown or unconfigured source {source!r}; configured: {', '.join(known)} "
            "(HTML sources are off until SCRAPER_HTML_SOURCES names them)",
            err=True,
        )
        raise typer.Exit(code=2)
    if source == "tmdb" and not settings.tmdb_api_token:
        typer.echo("the tmdb source needs TMDB_API_TOKEN", err=True)
        raise typer.Exit(code=2)
    try:
        observations = asyncio.run(_once(settings, source, dry_run=dry_run))
    except (FetchError, TmdbError, LayoutError) as error:
        typer.echo(f"{source}: {error}", err=True)
        raise typer.Exit(code=1) from error
    if dry_run:
        for event in observations:
            typer.echo(event.model_dump_json())
    else:
        typer.echo(f"{source}: published {len(observations)} observations", err=True)


async def _once(settings: ScraperSettings, source: str, *, dry_run: bool) -> list[TitleObserved]:
    observed_at = now_utc()
    async with PoliteFetcher(list(settings.html_sources.values())) as fetcher:
        observed = await observe_source(settings, source, observed_at, fetcher)
    if dry_run:
        return observed.observations
    await ensure_topics(settings, PIPELINE_TOPICS)
    db = Database(settings.database_url, service="scraper-cli")
    store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    publisher = BatchPublisher(settings, service="scraper-cli")
    await db.open()
    await publisher.start()
    try:
        return await store_and_publish(
            observed,
            source=source,
            db=db,
            store=store,
            publisher=publisher,
            observed_at=observed_at,
        )
    finally:
        await publisher.stop()
        await store.close()
        await db.close()
