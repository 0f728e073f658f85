"""``trending``: start the whole system, see what runs, and operate it.

Later subcommands (training, replay, drift) join this same Typer app.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli import classifier
from cli.drift import drift_app
from cli.enrich import enrich
from cli.lag import group_lag
from cli.replay import replay_command
from cli.scrape import app as scrape_app
from stack import Stack, StackError
from stack.supervisor import SERVICES, Supervisor, read_state
from trendkit.contracts import TITLES_CLASSIFIED, TITLES_ENRICHED, TITLES_RAW
from trendkit.db import migrate as db_migrate
from trendkit.db.database import Database
from trendkit.objectstore import open_object_store

app = typer.Typer(
    help="Trending Now: what's trending in movies and TV, live.", no_args_is_help=True
)
console = Console(stderr=True)
app.add_typer(scrape_app, name="scrape")
app.command()(enrich)
app.command()(classifier.dataset)
app.command()(classifier.train)
app.command()(classifier.evaluate)
app.add_typer(classifier.models_app, name="models")
app.command("replay")(replay_command)
app.add_typer(drift_app, name="drift")

# Which group reads which topic, for lag.
CONSUMERS = {
    "enricher": TITLES_RAW,
    "classifier": TITLES_ENRICHED,
    "scorer": TITLES_CLASSIFIED,
}
RootOption = Annotated[
    Path, typer.Option("--root", help="folder for the embedded components' data and logs")
]


class _Stop(Exception):
    """Raised in the main thread when SIGINT or SIGTERM arrives."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _demo_model(database_url: str, objects: Path) -> None:
    """Make sure a trained genre model is in production before the classifier starts."""
    from services.classifier.bootstrap import ensure_production_model

    async def ensure() -> tuple[str, bool]:
        db = Database(database_url, service="trending-up")
        store = open_object_store(f"file://{objects}")
        await db.open()
        try:
            record, trained = await ensure_production_model(db, store)
        finally:
            await store.close()
            await db.close()
        return f"{record.version} (test macro-F1 {record.macro_f1:.3f})", trained

    console.print("[bold]Checking the genre model registry…[/bold]")
    described, trained = asyncio.run(ensure())
    verb = "trained and promoted the demo model" if trained else "production model"
    console.print(f"[bold]{verb}:[/bold] {described}")


@app.command()
def up(
    root: RootOption = Path(".trending"),
    port: Annotated[int, typer.Option(help="port of the web page and api")] = 8000,
    speed: Annotated[
        float, typer.Option(help="replay speed: timeline seconds per real second")
    ] = 720.0,
    services: Annotated[str, typer.Option(help="comma-separated services to run")] = ",".join(
        SERVICES
    ),
) -> None:
    """Start the stack and all services; Ctrl-C stops everything."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    root.mkdir(parents=True, exist_ok=True)
    stack = Stack(root / "stack", s3=False)
    supervisor: Supervisor | None = None
    lock = threading.Lock()

    def echo(line: str) -> None:
        with lock:
            print(line, flush=True)

    try:
        console.print("[bold]Starting Kafka (Tansu), PostgreSQL and Redis…[/bold]")
        stack.start()
        assert stack.database_url is not None
        console.print("[bold]Migrating the database…[/bold]")
        db_migrate.upgrade_sync(stack.database_url)
        objects = (root / "objects").resolve()
        _demo_model(stack.database_url, objects)
        env = {
            **stack.env(),
            "OBJECT_STORE_URL": f"file://{objects}",
            "SCRAPER_REPLAY_SPEED": str(speed),
            # The demo compresses event time by the replay speed; so do the score windows.
            "SCORER_TIME_SCALE": str(speed),
            # One process writes the demo's observations in order: little disorder to
            # wait for, and a bubble should move within a second of its observation.
            "SCORER_LATENESS_S": "1",
            # Read by people, prefixed per service: one-line text, not JSON.
            "LOG_FORMAT": "text",
        }
        supervisor = Supervisor(
            env=env, root=root, services=services.split(","), api_port=port, echo=echo
        )
        console.print(f"[bold]Starting services: {services}…[/bold]")
        supervisor.start()
        supervisor.wait_healthy(timeout=120)
        console.print(
            f"\n[bold green]Trending Now is live at http://127.0.0.1:{port}[/bold green]"
            "  (Ctrl-C stops everything)\n"
        )
        while True:
            time.sleep(1)
            dead = supervisor.dead()
            if dead:
                raise StackError(f"service(s) exited: {', '.join(dead)}; see {root / 'logs'}")
    except _Stop as stop:
        console.print(f"\n[bold]{stop}: stopping…[/bold]")
    except (StackError, RuntimeError, TimeoutError) as error:
        console.print(f"[bold red]error:[/bold red] {error}")
        raise typer.Exit(1) from error
    finally:
        # A second Ctrl-C must not interrupt the orderly stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop()
        stack.stop()
        console.print("[bold]stopped[/bold]")


@app.command()
def status(root: RootOption = Path(".trending")) -> None:
    """Show what runs, whether it answers, and each consumer group's lag."""
    state = read_state(root)
    if state is None:
        console.print(f"nothing runs from {root.resolve()} (no services.json): try `trending up`")
        raise typer.Exit(1)
    table = Table("service", "pid", "alive", "health", "port")
    for name, info in state["services"].items():
        alive = _pid_alive(info["pid"])
        health = _health(f"http://127.0.0.1:{info['port']}/healthz") if alive else "-"
        table.add_row(name, str(info["pid"]), "yes" if alive else "NO", health, str(info["port"]))
    Console().print(table)
    env = state.get("env", {})
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        return
    prefix = env.get("TOPIC_PREFIX", "")
    lags = Table("consumer group", "topic", "committed", "high watermark", "lag")
    for service, topic in CONSUMERS.items():
        try:
            lag = asyncio.run(group_lag(bootstrap, f"{prefix}{service}", f"{prefix}{topic}"))
        except Exception as error:  # the broker may be gone; say so, per group
            lags.add_row(f"{prefix}{service}", topic, "?", "?", f"unavailable: {error}")
            continue
        lags.add_row(lag.group, topic, str(lag.committed), str(lag.high_watermark), str(lag.lag))
    Console().print(lags)


@app.command()
def migrate(
    url: Annotated[str | None, typer.Option(help="database URL (default: $DATABASE_URL)")] = None,
) -> None:
    """Bring the database schema to the latest migration."""
    target = url or os.environ.get("DATABASE_URL")
    if not target:
        console.print("give --url or set DATABASE_URL")
        raise typer.Exit(2)
    db_migrate.upgrade_sync(target)
    console.print("database is at head")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _health(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return "ok" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except OSError as error:
        return f"down ({error})"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
