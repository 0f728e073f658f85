"""``trending drift run|compare``: one drift run now, or two data files compared.

Results go to stdout (the verdict, or JSON with ``--json`` and for ``compare``), so a
scheduler or a script can read them; tables and errors go to stderr.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.drift.files import DriftFileError, compare_files
from services.drift.run import DriftRun, run_drift
from services.drift.settings import DriftSettings
from services.drift.statistics import Thresholds
from trendkit.db.database import Database
from trendkit.objectstore import open_object_store
from trendkit.runtime import prepare_database

console = Console(stderr=True)
drift_app = typer.Typer(
    help="Data drift: recent titles against the model's training data.", no_args_is_help=True
)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO date-time: {value!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _run_once(settings: DriftSettings, as_of: datetime | None) -> DriftRun:
    await prepare_database(settings)
    db = Database(settings.database_url, service="trending-drift")
    store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    await db.open()
    try:
        return await run_drift(db, store, settings, as_of=as_of)
    finally:
        await store.close()
        await db.close()


def _table(done: DriftRun) -> Table:
    table = Table("feature", "test", "p", "PSI", "verdict", "note", title=f"drift {done.id}")
    for name, f in done.report["features"].items():
        p = "–" if f["p_value"] is None else f"{f['p_value']:.3g}"
        psi = "–" if f["psi"] is None else f"{f['psi']:.3f}"
        table.add_row(name, f["test"] or "–", p, psi, f["level"] or "–", f["note"] or "")
    return table


@drift_app.command("run")
def run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="end of the window (ISO date-time, UTC if no zone)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report")] = False,
) -> None:
    """Run drift once over the last DRIFT_WINDOW_HOURS and print the verdict."""
    settings = DriftSettings()
    done = asyncio.run(_run_once(settings, _as_of(as_of)))
    console.print(_table(done))
    console.print(f"reference: {done.report['reference']['kind']}; report: {done.report_uri}")
    if done.report["note"]:
        console.print(done.report["note"])
    if as_json:
        typer.echo(json.dumps(done.report, indent=2, sort_keys=True))
    else:
        typer.echo(done.verdict or "null")


@drift_app.command("compare")
def compare(
    reference: Annotated[Path, typer.Argument(help="reference data (CSV or Parquet)")],
    current: Annotated[Path, typer.Argument(help="current data (CSV or Parquet)")],
    psi_warn: Annotated[float, typer.Option(help="PSI from which a column drifts")] = 0.1,
    psi_alert: Annotated[float, typer.Option(help="PSI of an alert")] = 0.25,
    alpha: Annotated[float, typer.Option(help="significance level of the tests")] = 0.01,
    min_samples: Annotated[
        int, typer.Option(help="fewer values on a side: no verdict (drift null)")
    ] = 50,
) -> None:
    """Compare two files column by column and print the JSON report."""
    thresholds = Thresholds(
        psi_warn=psi_warn, psi_alert=psi_alert, alpha=alpha, min_samples=min_samples
    )
    try:
        report = compare_files(reference, current, thresholds)
    except DriftFileError as error:
        typer.echo(f"error: {error}", err=True)  # unwrapped: scripts grep it
        raise typer.Exit(1) from error
    typer.echo(json.dumps(report, indent=2, sort_keys=True))
