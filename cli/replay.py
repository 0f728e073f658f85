"""``trending replay --from DATETIME [--to DATETIME]``: recompute scores from the archive.

It prints how many inputs were replayed and updates recomputed (one per window whose score
was published), whether they are exactly the updates live scoring published over the same
span, and the top titles per window at the end; ``--output`` writes the recomputed
``trends.scored`` events as JSON lines, ``--check`` exits 1 when the replay and the stored
history differ.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError, OperationalError

from services.scorer.archive import ScoreArchive
from services.scorer.replay import ReplayResult, replay
from services.scorer.settings import ScorerSettings
from trendkit.contracts import WINDOWS
from trendkit.db.database import Database
from trendkit.runtime import prepare_database

console = Console(stderr=True)
out = Console()


def _when(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        console.print(f"[red]{option}: {value!r} is not an ISO date-time (2026-11-26T08:00Z)[/red]")
        raise typer.Exit(code=2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def replay_command(
    since: Annotated[str, typer.Option("--from", help="ISO date-time; UTC unless it says")],
    until: Annotated[str | None, typer.Option("--to", help="ISO date-time (default: now)")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="write the recomputed events as JSON lines")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="exit 1 unless the replay equals the stored history")
    ] = False,
    top: Annotated[int, typer.Option("--top", help="titles shown per window")] = 5,
) -> None:
    """Recompute trend scores from the scorer's archive (deterministic: same as live)."""
    start, stop = _when(since, "--from"), _when(until, "--to") if until else None
    if stop is not None and stop <= start:
        console.print("[red]--to must be later than --from[/red]")
        raise typer.Exit(code=2)
    settings = ScorerSettings()
    try:
        result = asyncio.run(_replay(settings, start, stop))
    except (OperationalError, DBAPIError, OSError) as exc:
        console.print(
            f"[red]cannot read the archive at DATABASE_URL ({settings.database_url}): "
            f"{exc.__class__.__name__}. Start the stack (trending up) or set DATABASE_URL.[/red]"
        )
        raise typer.Exit(code=1) from exc
    if output is not None:
        with output.open("w") as f:
            for event in result.outputs:
                f.write(event.model_dump_json() + "\n")
    _report(result, top)
    if check and not result.matches:
        raise typer.Exit(code=1)


async def _replay(
    settings: ScorerSettings, since: datetime, until: datetime | None
) -> ReplayResult:
    await prepare_database(settings)
    db = Database(settings.database_url, service="trending-replay")
    await db.open()
    try:
        archive = ScoreArchive(db, scorer=settings.topic("scorer"))
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("replaying the archive…", total=None)
            return await replay(
                archive,
                settings.scoring_params(),
                since,
                until,
                progress=lambda n: bar.update(task, description=f"replayed {n:,} inputs…"),
            )
    finally:
        await db.close()


def _report(result: ReplayResult, top: int) -> None:
    verdict = (
        "[green]identical to the stored history[/green]"
        if result.matches
        else f"[red]differs from the stored history: {len(result.missing)} stored update(s) "
        f"not recomputed, {len(result.extra)} recomputed update(s) not stored[/red]"
    )
    console.print(
        f"replayed {result.inputs:,} inputs; {len(result.recomputed):,} updates "
        f"({len(result.outputs):,} events) from "
        f"{result.since.isoformat()} to {result.until.isoformat() if result.until else 'the end'}: "
        + verdict
    )
    board = result.board
    if board is not None and board.now is not None:
        for window in WINDOWS:
            table = Table(title=f"{window} at {board.now.isoformat()}")
            for column in ("rank", "title", "raw", "why"):
                table.add_column(column)
            best = board.current(window)[:top]
            for rank, (title_id, comp) in enumerate(best, start=1):
                name = board.titles[title_id].latest.title.name
                table.add_row(str(rank), name, f"{comp.raw:.3f}", ", ".join(sorted(comp.sources)))
            console.print(table)
    out.print_json(
        json.dumps(
            {
                "inputs": result.inputs,
                "updates": len(result.recomputed),
                "events": len(result.outputs),
                "stored": len(result.stored),
                "matches": result.matches,
                "missing": len(result.missing),
                "extra": len(result.extra),
            }
        )
    )
