"""``trending dataset|train|evaluate|models``: the genre classifier's ML workflow.

Long steps show progress bars on stderr; results go to stdout (JSON where a program
would read them), so ``trending evaluate … > metrics.json`` is what DVC tracks.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.classifier import datasets
from services.classifier.artifact import ArtifactError
from services.classifier.data import Dataset
from services.classifier.datasets import DataCard, DatasetError, Split
from services.classifier.kinds import load_model
from services.classifier.registry import DEFAULT_NAME, ModelRecord, Registry, RegistryError
from services.classifier.training import KINDS, Kind, run, score
from trendkit.db.database import Database
from trendkit.objectstore import get_tree, open_object_store, put_tree
from trendkit.runtime import prepare_database
from trendkit.settings import CommonSettings

console = Console(stderr=True)
models_app = typer.Typer(help="The model registry: list, show, promote.", no_args_is_help=True)

DataOption = Annotated[
    str,
    typer.Option(
        "--data",
        help="a CSV/Parquet file (title, overview, genres), a folder built by "
        "`trending dataset`, or `db` (titles with TMDb genres in Postgres)",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code=code)


def _collect(data: str, *, llm_labels: bool = False) -> tuple[dict[Split, Dataset], DataCard]:
    """Build (or load) a split dataset from a file, a built folder or Postgres."""
    path = Path(data)
    if data == "db":
        return datasets.build(asyncio.run(_read_db(llm_labels)))
    if path.is_dir():
        return datasets.load(path)
    return datasets.build(datasets.read_file(path))


async def _read_db(llm_labels: bool) -> datasets.Collected:
    settings = CommonSettings()
    await prepare_database(settings)
    db = Database(settings.database_url, service="trending-dataset")
    await db.open()
    try:
        return await datasets.read_db(db, llm_labels=llm_labels)
    finally:
        await db.close()


def _summary(card: DataCard) -> None:
    table = Table(title=f"dataset {card.content_hash[:12]} from {card.source}")
    table.add_column("split")
    table.add_column("rows", justify="right")
    for split, rows in card.rows_per_split.items():
        table.add_row(split, str(rows))
    console.print(table)
    if card.dropped:
        console.print(f"dropped: {card.dropped}")
    if card.unknown_labels:
        console.print(f"labels outside the taxonomy (ignored): {card.unknown_labels}")


def dataset(
    data: DataOption,
    output: Annotated[Path, typer.Option("--output", help="folder for train/val/test Parquet")],
    llm_labels: Annotated[
        bool, typer.Option("--llm-labels", help="with --data db: label titles TMDb did not")
    ] = False,
) -> None:
    """Build a training set: dedupe, split by id hash, write Parquet and a data card."""
    try:
        splits, card = _collect(data, llm_labels=llm_labels)
    except DatasetError as exc:
        raise _fail(str(exc)) from exc
    datasets.write(splits, card, output)
    _summary(card)
    typer.echo(card.to_json())


@contextmanager
def _progress() -> Iterator[Any]:
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=1.0)
            bars.update(tasks[stage], completed=min(max(fraction, 0.0), 1.0))

        yield report


def train(
    model: Annotated[str, typer.Option("--model", help="xgboost | bert | ensemble")],
    data: DataOption,
    output: Annotated[Path, typer.Option("--output", help="folder for the trained model")],
    register: Annotated[
        bool, typer.Option("--register", help="upload and record it in the registry")
    ] = False,
    promote: Annotated[
        bool, typer.Option("--promote", help="with --register: ask for promotion (gated)")
    ] = False,
    params: Annotated[
        Path | None,
        typer.Option("--params", help="YAML with xgboost:/bert: sections (DVC's params.yaml)"),
    ] = None,
) -> None:
    """Train a genre model, evaluate it on the test split, save it with its report."""
    if model not in KINDS:
        raise _fail(f"--model {model!r}: choose one of {', '.join(KINDS)}", code=2)
    kind: Kind = model
    overrides = _read_params(params)
    try:
        splits, card = _collect(data)
    except DatasetError as exc:
        raise _fail(str(exc)) from exc
    _summary(card)
    try:
        with _progress() as progress:
            result = run(kind, splits, card, output, overrides, progress)
    except ValueError as exc:
        raise _fail(str(exc), code=2) from exc
    metrics = result.report.to_json()
    console.print(
        f"[green]{kind}[/green]: test macro-F1 {metrics['macro_f1']:.4f}, "
        f"micro-F1 {metrics['micro_f1']:.4f} → {output}"
    )
    summary: dict[str, Any] = {"kind": kind, "output": str(output), **_headline(metrics)}
    if register:
        record = asyncio.run(_register(result.model_dir, kind, splits, card, result.params))
        summary["version"] = record.version
        console.print(f"registered {record.name} {record.version} ({record.stage})")
        if promote:
            decision = asyncio.run(_promote(record.name, record.version, 0.01, False))
            summary["promoted"] = decision["promoted"]
    typer.echo(json.dumps(summary))


def _read_params(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(f"{path}: cannot read parameters: {exc}", code=2) from exc
    return {k: dict(v or {}) for k, v in raw.items() if k in ("xgboost", "bert")}


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in ("macro_f1", "micro_f1", "weighted_f1") if k in metrics}


async def _open() -> tuple[Registry, Database, Any]:
    settings = CommonSettings()
    await prepare_database(settings)
    db = Database(settings.database_url, service="trending-models")
    await db.open()
    store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    return Registry(db, store), db, store


async def _register(
    model_dir: Path,
    kind: str,
    splits: dict[Split, Dataset],
    card: DataCard,
    params: dict[str, Any],
) -> ModelRecord:
    registry, db, store = await _open()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            built = datasets.write(splits, card, Path(tmp))
            dataset_uri = await put_tree(store, f"datasets/{card.content_hash[:16]}", built)
        metrics = json.loads((model_dir / "report" / "metrics.json").read_text())
        return await registry.register(
            model_dir,
            kind=kind,
            metrics=metrics,
            params=params,
            data_card_hash=card.content_hash,
            dataset_uri=dataset_uri,
        )
    finally:
        await store.close()
        await db.close()


def evaluate(
    model_path: Annotated[Path, typer.Option("--model-path", help="a trained model folder")],
    data: Annotated[
        Path,
        typer.Option("--data", help="a CSV/Parquet file of labelled titles, or a built folder"),
    ],
) -> None:
    """Print the model's metrics on DATA as JSON (over the labels present in it)."""
    try:
        model = load_model(model_path)
        if data.is_dir():
            test = datasets.load(data)[0]["test"]
        else:
            splits, _ = datasets.build(datasets.read_file(data))
            test = Dataset([r for s in splits.values() for r in s])
    except (ArtifactError, DatasetError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(score(model, test).to_json(), indent=2, sort_keys=True))


@models_app.command("list")
def list_models(
    name: Annotated[str | None, typer.Option("--name", help="only this registry name")] = None,
) -> None:
    """List the registered versions, newest first."""
    records = asyncio.run(_list(name))
    table = Table()
    for column in ("name", "version", "kind", "stage", "macro-F1", "created"):
        table.add_column(column, no_wrap=True)
    for r in records:
        f1 = f"{r.macro_f1:.4f}" if r.macro_f1 is not None else "—"
        table.add_row(r.name, r.version, r.kind, r.stage, f1, r.created_at[:19])
    # Versions are long ids people copy: never wrap them, even into a pipe.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


async def _list(name: str | None) -> list[ModelRecord]:
    registry, db, store = await _open()
    try:
        return await registry.list(name)
    finally:
        await store.close()
        await db.close()


@models_app.command()
def show(name: str, version: str) -> None:
    """Print one version's record (metrics, parameters, data card, artifacts) as JSON."""
    try:
        record = asyncio.run(_show(name, version))
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(record.__dict__, indent=2, sort_keys=True, default=str))


async def _show(name: str, version: str) -> ModelRecord:
    registry, db, store = await _open()
    try:
        return await registry.get(name, version)
    finally:
        await store.close()
        await db.close()


@models_app.command()
def promote(
    name: str,
    version: str,
    force: Annotated[bool, typer.Option("--force", help="skip the gate")] = False,
    tolerance: Annotated[
        float, typer.Option(help="allowed macro-F1 drop against production")
    ] = 0.01,
) -> None:
    """Promote a version to production if it is not worse than production (or --force)."""
    try:
        decision = asyncio.run(_promote(name, version, tolerance, force))
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(decision, indent=2, sort_keys=True))
    if not decision["promoted"]:
        raise typer.Exit(code=1)


async def _promote(name: str, version: str, tolerance: float, force: bool) -> dict[str, Any]:
    registry, db, store = await _open()

    async def rescore(production: ModelRecord, candidate: ModelRecord) -> float:
        """Score production on the candidate's test split (their splits differ)."""
        if candidate.dataset_uri is None:
            raise RegistryError(f"{candidate.version} records no dataset to re-score on")
        if candidate.data_card_hash is None:
            raise RegistryError(f"{candidate.version} records no data card")
        with tempfile.TemporaryDirectory() as tmp:
            folder = await registry.download(production, Path(tmp) / "model")
            prefix = f"datasets/{candidate.data_card_hash[:16]}"
            data = await get_tree(store, prefix, Path(tmp) / "data")
            model = await asyncio.to_thread(load_model, folder)
            test = datasets.load(data)[0]["test"]
            return float(score(model, test).to_json()["macro_f1"])

    try:
        decision = await registry.promote(
            name, version, tolerance=tolerance, force=force, rescore=rescore
        )
    finally:
        await store.close()
        await db.close()
    return decision.__dict__


__all__ = ["DEFAULT_NAME", "dataset", "evaluate", "models_app", "train"]
