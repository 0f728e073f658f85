"""``trending enrich FILE``: enrich titles from a file and print them, as the service would.

It uses the service's own cache (Postgres + Redis) and daily budget, so enriching a file
twice costs nothing the second time, and a file never overspends the day's LLM budget.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError, OperationalError

from services.enricher.cache import EnrichmentCache
from services.enricher.handlers import EnrichTitles
from services.enricher.inputs import InputError, read_titles
from services.enricher.metrics import EnricherMetrics
from services.enricher.providers import ProviderConfigError, build_router
from services.enricher.settings import EnricherSettings
from trendkit.contracts import Enrichment, TitleObserved, now_utc
from trendkit.db.database import Database
from trendkit.hotcache import RedisModelCache
from trendkit.runtime import prepare_database

console = Console(stderr=True)


def enrich(
    file: Annotated[
        Path, typer.Argument(help="JSON lines of titles.raw events, or a CSV with title,overview")
    ],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="openai | local (MiniLM) | lexicon; default: ENRICHER_PROVIDER, else auto",
        ),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="titles per step")] = 64,
) -> None:
    """Enrich the titles in FILE; print one titles.enriched event (JSON) per line."""
    overrides = {"provider": provider} if provider else {}
    try:
        settings = EnricherSettings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        console.print(f"[red]--provider {provider!r}: choose openai, local or lexicon[/red]")
        raise typer.Exit(code=2) from exc
    try:
        titles = list(read_titles(file, observed_at=now_utc()))
    except InputError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    try:
        refused = asyncio.run(_enrich(settings, titles, batch))
    except ProviderConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from exc
    except (OperationalError, DBAPIError, OSError) as exc:
        console.print(
            f"[red]cannot reach PostgreSQL at DATABASE_URL ({settings.database_url}): the "
            f"enrich command keeps the service's cache and budget there. Start the stack "
            f"(trending up) or point DATABASE_URL at a server. ({exc.__class__.__name__})[/red]"
        )
        raise typer.Exit(code=1) from exc
    if refused:
        raise typer.Exit(code=1)


async def _enrich(settings: EnricherSettings, titles: list[TitleObserved], step: int) -> int:
    """Enrich in steps; print events to stdout; return how many titles were refused."""
    await prepare_database(settings)
    db = Database(settings.database_url, service="enrich-cli")
    metrics = EnricherMetrics()
    hot = RedisModelCache(
        settings.redis_url,
        Enrichment,
        namespace=f"{settings.topic_prefix}enrich",
        ttl_s=settings.cache_ttl_s,
    )
    await db.open()
    router = build_router(settings, db, metrics)
    handler = EnrichTitles(EnrichmentCache(db, hot, metrics), router)
    refused = 0
    try:
        await router.start()
        with Progress(
            TextColumn("enriching"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("titles", total=len(titles))
            for start in range(0, len(titles), step):
                outcome = await handler(titles[start : start + step])
                for out in outcome.outputs:
                    sys.stdout.write(out.value.decode() + "\n")
                sys.stdout.flush()
                for event_id, why in outcome.rejected.items():
                    refused += 1
                    console.print(f"[yellow]refused {event_id}: {why}[/yellow]")
                progress.advance(task, min(step, len(titles) - start))
    finally:
        await router.aclose()
        await hot.aclose()
        await db.close()
    hits = sum(
        s.value
        for m in metrics.cache_hits.collect()
        for s in m.samples
        if s.name.endswith("_total")
    )
    console.print(
        f"{len(titles)} titles: {int(hits)} from the cache, {refused} refused "
        f"(provider: {router.preferred.provider}/{router.preferred.model})"
    )
    return refused
