"""Fine-tuned MiniLM genres on tmdb_movies.csv, beside frozen MiniLM embeddings + LR.

    python -m bench.classifier_transformer [--data PATH] [--epochs N] [--limit-train N]
        [--device cpu|cuda] [--model-path DIR] [--grid JSON] [--save-to DIR]

Rows split by ``sha1("tmdb:movie:<id>")``: the first 10 % test, the next 10 % validation
(epoch choice and thresholds), the rest train. The run fine-tunes the transformer, saves it
(safetensors + ONNX fp32 + ONNX int8) and reloads it; each runtime then labels the test
rows on ``--threads`` CPU threads (titles/s, macro-F1 under the validation thresholds).
The peer, in the same run: the same MiniLM frozen (mean-pooled, unit-length, 256 tokens)
under one-vs-rest logistic regression, C and thresholds chosen on validation.

``--grid '[{"lr": 1e-4}, {"pos_weight": "sqrt"}]'`` first trains each variant of the
parameters and prints its validation macro-F1 per epoch and its test macro-F1 under
torch fp32 (no export); defaults are chosen on the validation figures.
The last line is JSON.

Imports only numpy, torch, transformers, onnxruntime, scikit-learn and the classifier's
data and transformer modules, so it runs on a machine without the services' stack.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from services.classifier.artifact import Manifest
from services.classifier.data import Dataset, LabelledTitle
from services.classifier.thresholds import tune_thresholds
from services.classifier.transformer_model import (
    RUNTIMES,
    TransformerGenreModel,
    TransformerParams,
    default_base_model,
    macro_f1,
    title_text,
    train_transformer,
)
from trendkit.taxonomy import map_tmdb_genres

SHARED_DATA = Path(
    os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)
DEFAULT_DATA = SHARED_DATA / "datasets" / "tmdb_movies.csv"
PEER_MAX_LENGTH = 256  # all-MiniLM-L6-v2's own max_seq_length
PEER_C = (0.25, 1.0, 4.0, 16.0)
WARMUP_TITLES = 64

Split = tuple[Dataset, Dataset, Dataset]


def split_of(title_id: str) -> str:
    """Return ``train``, ``val`` or ``test`` for a title id: the project-wide split."""
    h = int(hashlib.sha1(title_id.encode()).hexdigest()[:8], 16) % 100
    return "test" if h < 10 else "val" if h < 20 else "train"


def load_split(path: Path) -> Split:
    """Read tmdb_movies.csv into train, validation and test over one label space."""
    rows: list[LabelledTitle] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            genres = tuple(map_tmdb_genres(raw["genres"].split("|")))
            if not genres:
                continue
            year = raw.get("release_date", "")[:4]
            rows.append(
                LabelledTitle(
                    title=raw["title"],
                    overview=raw["overview"],
                    media_type="movie",
                    year=int(year) if year.isdigit() else None,
                    id=f"tmdb:movie:{raw['tmdb_id']}",
                    genres=genres,
                )
            )
    full = Dataset(rows)
    parts: dict[str, list[LabelledTitle]] = {"train": [], "val": [], "test": []}
    for row in rows:
        parts[split_of(row.id)].append(row)
    return full.subset(parts["train"]), full.subset(parts["val"]), full.subset(parts["test"])


def micro_f1(y_true: NDArray[np.int8], y_pred: NDArray[np.int8]) -> float:
    """Return F1 over every (title, label) decision."""
    tp = int(((y_true == 1) & (y_pred == 1)).sum())
    wrong = int((y_true != y_pred).sum())
    return 2 * tp / (2 * tp + wrong) if tp + wrong else 0.0


def scores(
    y_true: NDArray[np.int8], proba: NDArray[np.float32], thresholds: NDArray[np.float64]
) -> tuple[float, float]:
    """Return (macro-F1, micro-F1) of probabilities cut at ``thresholds``."""
    y_pred = (proba >= thresholds[np.newaxis, :]).astype(np.int8)
    return macro_f1(y_true, y_pred), micro_f1(y_true, y_pred)


def frozen_peer(base: Path, split: Split, device: str) -> float:
    """Test macro-F1 of frozen MiniLM sentence embeddings + one-vs-rest LR."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    train, _val, _test = split
    vectors = [_embed(base, part, device) for part in split]
    y = [part.label_matrix(train.labels) for part in split]
    best: tuple[float, NDArray[np.float32], NDArray[np.float64]] | None = None
    for c in PEER_C:
        model = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000), n_jobs=-1)
        model.fit(vectors[0], y[0])
        proba_val = model.predict_proba(vectors[1]).astype(np.float32)
        thresholds = tune_thresholds(y[1], proba_val)
        val_f1 = scores(y[1], proba_val, thresholds)[0]
        if best is None or val_f1 > best[0]:
            best = (val_f1, model.predict_proba(vectors[2]).astype(np.float32), thresholds)
    assert best is not None
    return scores(y[2], best[1], best[2])[0]


def _embed(base: Path, data: Dataset, device: str) -> NDArray[np.float32]:
    import torch

    from services.classifier.transformer_model import TextEncoder, batches_by_length, pad_batch
    from services.classifier.transformer_training import load_encoder

    encoder: torch.nn.Module = load_encoder(base)
    encoder = encoder.to(device).eval()
    encoded = TextEncoder(base / "tokenizer.json", PEER_MAX_LENGTH).encode(
        [title_text(r) for r in data]
    )
    chunks: list[tuple[NDArray[np.int64], NDArray[np.float32]]] = []
    with torch.inference_mode():
        for rows in batches_by_length(encoded, 64):
            ids, mask = (
                torch.from_numpy(a).to(device) for a in pad_batch([encoded[i] for i in rows])
            )
            hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            chunks.append((rows, torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()))
    out = np.zeros((len(encoded), chunks[0][1].shape[1]), dtype=np.float32)
    for rows, vectors in chunks:
        out[rows] = vectors
    return out


def run_grid(
    grid: Sequence[dict[str, Any]], base_params: TransformerParams, split: Split, **train_kw: Any
) -> list[dict[str, Any]]:
    """Train each parameter variant; return its test figures under torch fp32 (no export)."""
    train, val, test = split
    results = []
    for overrides in grid:
        params = replace(base_params, runtime="torch", **overrides)
        started = time.perf_counter()
        model = train_transformer(train, val, params, **train_kw)
        seconds = time.perf_counter() - started
        proba = model.predict_proba(test.rows)
        macro, micro = scores(test.label_matrix(model.labels), proba, model.thresholds)
        assert model.report is not None
        result = {
            "overrides": overrides,
            "macro_f1": round(macro, 4),
            "micro_f1": round(micro, 4),
            "train_s": round(seconds, 1),
            "best_epoch": model.report.best_epoch,
            "val_macro_f1": [round(v, 4) for v in model.report.val_macro_f1],
        }
        print("grid:", json.dumps(result), flush=True)
        results.append(result)
    return results


def time_runtime(
    model: TransformerGenreModel, test: Dataset, repeats: int
) -> tuple[float, tuple[float, float]]:
    """Label the test rows ``repeats`` times; return the best titles/s and (macro, micro)-F1."""
    model.predict_proba(test.rows[:WARMUP_TITLES])
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        proba = model.predict_proba(test.rows)
        best = max(best, len(test) / (time.perf_counter() - started))
    return best, scores(test.label_matrix(model.labels), proba, model.thresholds)


def time_runtimes(
    model: TransformerGenreModel, test: Dataset, threads: int, repeats: int
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Label the test rows with each runtime; return titles/s and (macro, micro)-F1."""
    speed: dict[str, float] = {}
    quality: dict[str, tuple[float, float]] = {}
    for runtime in RUNTIMES:
        model.use_runtime(runtime, threads=threads)
        speed[runtime], quality[runtime] = time_runtime(model, test, repeats)
        print(
            f"{runtime}: {speed[runtime]:.1f} titles/s on {threads} threads, "
            f"macro-F1 {quality[runtime][0]:.4f}, micro-F1 {quality[runtime][1]:.4f}",
            flush=True,
        )
    return speed, quality


def time_lengths(
    model: TransformerGenreModel, test: Dataset, options: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Serve with the default runtime truncated to shorter texts; titles/s and macro-F1."""
    out = {}
    for length in options.infer_lengths:
        model.use_runtime(model.params.runtime, threads=options.threads, max_length=length)
        speed, (macro, _) = time_runtime(model, test, options.repeats)
        out[str(length)] = {"titles_per_s": round(speed, 1), "macro_f1": round(macro, 4)}
        print(f"{model.runtime} at {length} tokens: {speed:.1f} titles/s, macro-F1 {macro:.4f}")
    return out


def _device_name(device: str) -> str:
    if device == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="tmdb_movies.csv")
    parser.add_argument("--model-path", type=Path, default=None, help="base MiniLM folder")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--limit-train", type=int, default=None, help="first N train rows")
    parser.add_argument("--limit-eval", type=int, default=None, help="first N val/test rows")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for inference")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes; the best counts")
    parser.add_argument(
        "--infer-lengths",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[64, 96],
        help="also time the default runtime truncated to these token counts",
    )
    parser.add_argument("--params", default="{}", help="JSON overrides of TransformerParams")
    parser.add_argument("--grid", default="[]", help="JSON list of overrides to compare first")
    parser.add_argument("--save-to", type=Path, default=None, help="keep the model folder here")
    parser.add_argument("--no-peer", action="store_true", help="skip frozen MiniLM + LR")
    parser.add_argument("--grid-only", action="store_true", help="stop after the grid")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train, save, reload, time each runtime and the peer; print the figures."""
    options = _options(argv)
    if not options.data.is_file():
        print(f"error: {options.data}: no such file (set --data or SHARED_DATA)", file=sys.stderr)
        return 2
    train, val, test = load_split(options.data)
    train = train.subset(train.rows[: options.limit_train])
    val = val.subset(val.rows[: options.limit_eval])
    test = test.subset(test.rows[: options.limit_eval])
    print(f"rows: train {len(train)}, val {len(val)}, test {len(test)}", flush=True)
    params = replace(TransformerParams(), **json.loads(options.params))
    if options.epochs is not None:
        params = replace(params, epochs=options.epochs)
    base = options.model_path or default_base_model()
    import torch

    device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
    kw: dict[str, Any] = {"device": device, "base_model": base}
    grid = run_grid(json.loads(options.grid), params, (train, val, test), **kw)
    if options.grid_only:
        print(
            json.dumps({"bench": "classifier_transformer", "params": asdict(params), "grid": grid})
        )
        return 0

    started = time.perf_counter()
    model = train_transformer(train, val, params, progress=_progress, **kw)
    train_s = time.perf_counter() - started
    assert model.report is not None
    report = model.report
    print(f"trained in {train_s:.1f} s on {device}: {asdict(report)}", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        folder = options.save_to or Path(scratch) / "model"
        manifest = Manifest(
            kind=model.kind,
            labels=list(model.labels),
            thresholds=model.thresholds.tolist(),
            params=asdict(params),
            metrics={"training": asdict(report)},
        )
        model.save(folder, manifest)
        loaded = TransformerGenreModel.load(folder)
        speed, quality = time_runtimes(loaded, test, options.threads, options.repeats)
        by_length = time_lengths(loaded, test, options)
    peer = None if options.no_peer else frozen_peer(base, (train, val, test), device)
    macro, micro = quality[params.runtime]
    print(f"test macro-F1 {macro:.4f}, micro-F1 {micro:.4f} ({params.runtime})")
    if peer is not None:
        print(f"peer frozen MiniLM + LR: macro-F1 {peer:.4f}")
    print(
        json.dumps(
            {
                "bench": "classifier_transformer",
                "rows": {"train": len(train), "val": len(val), "test": len(test)},
                "runtime": params.runtime,
                "macro_f1": round(macro, 4),
                "micro_f1": round(micro, 4),
                "peer_frozen_lr_macro_f1": None if peer is None else round(peer, 4),
                "ratio_to_peer": None if peer is None else round(macro / peer, 3),
                "train_s": round(train_s, 1),
                "epoch_s": [round(s, 1) for s in report.epoch_seconds],
                "steps_per_epoch": report.steps_per_epoch,
                "best_epoch": report.best_epoch,
                "device": _device_name(device),
                "infer_threads": options.threads,
                "infer_titles_per_s": {k: round(v, 1) for k, v in speed.items()},
                "macro_f1_by_runtime": {k: round(v[0], 4) for k, v in quality.items()},
                "micro_f1_by_runtime": {k: round(v[1], 4) for k, v in quality.items()},
                "by_max_length": by_length,
                "params": asdict(params),
                "grid": grid,
            }
        )
    )
    return 0


def _progress(message: str, fraction: float) -> None:
    if "val" in message:
        print(f"  {message} ({fraction:.0%})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
