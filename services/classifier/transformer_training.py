"""The torch side of the transformer genre model: the network, its training loop, export.

Imported only when a model is trained, exported or served with the ``torch`` runtime:
everything here needs torch (and transformers to read the base weights), which the ONNX
runtime path never loads.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from services.classifier.thresholds import tune_thresholds
from services.classifier.transformer_model import (
    Encoded,
    batches_by_length,
    macro_f1,
    pad_batch,
    sigmoid,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel

Progress = Callable[[str, float], None]

# Batches are drawn from shuffled pools this many batches long, sorted by length inside
# each pool: on tmdb_movies.csv an epoch pads to 497k tokens instead of 930k (489k are
# real), nearly halving its CPU time, while the order of the data stays random.
POOL_BATCHES = 50
# The weight a rare label's positives may get at most with ``pos_weight="sqrt"``.
MAX_POS_WEIGHT = 10.0
POOLINGS = ("mean", "cls")


class GenreNet(nn.Module):
    """A BERT encoder, pooling (masked mean, or [CLS]), dropout and a linear multi-label head."""

    def __init__(
        self, encoder: PreTrainedModel, n_labels: int, dropout: float, pooling: str
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
        self.encoder: PreTrainedModel = encoder
        self.pooling = pooling
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return one logit per label."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        hidden = states.last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        logits: torch.Tensor = self.head(self.dropout(pooled))
        return logits


def load_encoder(path: Path, attention: str = "sdpa") -> PreTrainedModel:
    """Read BERT weights from a local folder; never the hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    encoder: PreTrainedModel = AutoModel.from_pretrained(
        str(path), local_files_only=True, attn_implementation=attention
    )
    return encoder


def build_net(
    encoder_dir: Path, head: dict[str, NDArray[np.float32]], pooling: str, attention: str = "sdpa"
) -> GenreNet:
    """Rebuild a saved network: the encoder folder plus the head's weight and bias."""
    weight = head["weight"]
    net = GenreNet(load_encoder(encoder_dir, attention), weight.shape[0], 0.0, pooling)
    net.head.weight.data = torch.from_numpy(np.ascontiguousarray(weight))
    net.head.bias.data = torch.from_numpy(np.ascontiguousarray(head["bias"]))
    return net.eval()


def head_arrays(net: GenreNet) -> dict[str, NDArray[np.float32]]:
    """Return the head's weight and bias as numpy arrays."""
    return {
        "weight": net.head.weight.detach().cpu().float().numpy(),
        "bias": net.head.bias.detach().cpu().float().numpy(),
    }


@torch.no_grad()
def predict_logits(
    net: GenreNet, encoded: Sequence[Encoded], batch_size: int, device: str = "cpu"
) -> NDArray[np.float32]:
    """Return the (texts × labels) logits, batching texts of similar length together."""
    net.eval()
    out = np.zeros((len(encoded), net.head.out_features), dtype=np.float32)
    for rows in batches_by_length(encoded, batch_size):
        ids, mask = pad_batch([encoded[i] for i in rows])
        logits = net(torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device))
        out[rows] = logits.float().cpu().numpy()
    return out


@dataclass
class TrainingReport:
    """What training did: per-epoch figures and the epoch kept."""

    best_epoch: int = 0
    val_macro_f1: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    device: str = "cpu"
    served_runtime: str = "torch"
    served_val_macro_f1: float | None = None


@dataclass(frozen=True)
class FitConfig:
    """The subset of the model's parameters the training loop reads."""

    batch_size: int
    epochs: int
    lr: float
    head_lr: float
    weight_decay: float
    warmup: float
    dropout: float
    pooling: str
    pos_weight: str
    patience: int
    seed: int
    train_threads: int
    eval_batch_size: int


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(
    base_model: Path,
    train: tuple[Sequence[Encoded], NDArray[np.int8]],
    val: tuple[Sequence[Encoded], NDArray[np.int8]],
    config: FitConfig,
    device: str,
    progress: Progress | None = None,
) -> tuple[GenreNet, NDArray[np.float64], TrainingReport]:
    """Fine-tune the encoder and head; return the best epoch's net, its thresholds, a report.

    The epoch kept is the one with the best validation macro-F1 under thresholds tuned on
    that same validation set; training stops after ``patience`` epochs without a gain.
    """
    seed_everything(config.seed)
    threads_before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(config.train_threads)
    try:
        return _fit(base_model, train, val, config, device, progress)
    finally:
        torch.set_num_threads(threads_before)


def _fit(
    base_model: Path,
    train: tuple[Sequence[Encoded], NDArray[np.int8]],
    val: tuple[Sequence[Encoded], NDArray[np.int8]],
    config: FitConfig,
    device: str,
    progress: Progress | None,
) -> tuple[GenreNet, NDArray[np.float64], TrainingReport]:
    train_encoded, y_train = train
    val_encoded, y_val = val
    encoder = load_encoder(base_model)
    net = GenreNet(encoder, y_train.shape[1], config.dropout, config.pooling).to(device)
    optimizer = _optimizer(net, config)
    rng = np.random.default_rng(config.seed)
    steps_per_epoch = math.ceil(len(train_encoded) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    scheduler = _linear_schedule(optimizer, total_steps, config.warmup)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=_pos_weight(y_train, config.pos_weight, device))
    targets = torch.from_numpy(y_train.astype(np.float32))
    report = TrainingReport(steps_per_epoch=steps_per_epoch, device=device)
    best: tuple[float, dict[str, Any], NDArray[np.float64]] | None = None
    step = 0
    for epoch in range(config.epochs):
        started = time.perf_counter()
        net.train()
        losses = []
        for rows in _shuffled_batches(train_encoded, config.batch_size, rng):
            ids, mask = pad_batch([train_encoded[i] for i in rows])
            logits = net(torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device))
            loss = loss_fn(logits, targets[rows].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            step += 1
            if progress is not None and step % 10 == 0:
                progress(f"epoch {epoch + 1}/{config.epochs}", step / total_steps)
        proba = sigmoid(predict_logits(net, val_encoded, config.eval_batch_size, device))
        thresholds = tune_thresholds(y_val, proba)
        score = macro_f1(y_val, (proba >= thresholds).astype(np.int8))
        report.train_loss.append(float(np.mean(losses)))
        report.val_macro_f1.append(score)
        report.epoch_seconds.append(time.perf_counter() - started)
        if progress is not None:
            progress(f"epoch {epoch + 1}: val macro-F1 {score:.3f}", step / total_steps)
        if best is None or score > best[0]:
            state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            best = (score, state, thresholds)
            report.best_epoch = epoch + 1
        elif epoch + 1 - report.best_epoch >= config.patience:
            break
    assert best is not None
    net = net.cpu()
    net.load_state_dict(best[1])
    return net.eval(), best[2], report


def _optimizer(net: GenreNet, config: FitConfig) -> torch.optim.Optimizer:
    # No weight decay on biases and LayerNorm gains; the freshly initialised head learns
    # at its own, higher rate so that a few epochs suffice.
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for parameter in net.encoder.parameters():
        (no_decay if parameter.ndim < 2 else decay).append(parameter)
    groups = [
        {"params": decay, "lr": config.lr, "weight_decay": config.weight_decay},
        {"params": no_decay, "lr": config.lr, "weight_decay": 0.0},
        {"params": list(net.head.parameters()), "lr": config.head_lr, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups)


def _linear_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup: float
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup_steps = max(1, int(total_steps * warmup))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _pos_weight(y: NDArray[np.int8], mode: str, device: str) -> torch.Tensor | None:
    if mode == "none":
        return None
    positives = y.sum(axis=0).astype(np.float64)
    ratio = (len(y) - positives) / np.maximum(positives, 1.0)
    if mode == "sqrt":
        weight = np.clip(np.sqrt(ratio), 1.0, MAX_POS_WEIGHT)
    elif mode == "balanced":
        weight = np.clip(ratio, 1.0, MAX_POS_WEIGHT**2)
    else:
        raise ValueError(f"pos_weight must be none, sqrt or balanced, not {mode!r}")
    return torch.tensor(weight, dtype=torch.float32, device=device)


def _shuffled_batches(
    encoded: Sequence[Encoded], batch_size: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    order = rng.permutation(len(encoded))
    pool = batch_size * POOL_BATCHES
    batches: list[NDArray[np.int64]] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([len(encoded[i]) for i in chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def export_onnx(
    encoder_dir: Path, head: dict[str, NDArray[np.float32]], pooling: str, path: Path
) -> None:
    """Write the saved network as one ONNX file, fused for ONNX Runtime's CPU kernels.

    The encoder is re-read with eager attention and traced with the TorchScript exporter:
    that graph is the one ONNX Runtime's BERT optimizer recognises, fusing each layer's
    attention into one ``Attention`` node (with the embeddings and layer norms), which ran
    1.3-1.4x faster than the unfused graph on 2 threads. Should that exporter be gone
    from a later torch, the ``torch.export`` one writes an unfused but equivalent graph.
    """
    net = build_net(encoder_dir, head, pooling, attention="eager")
    raw = path.with_suffix(".raw.onnx")
    # The exporters warn about their own internals (deprecation of the TorchScript path,
    # tracer notes on transformers' mask code); none of it concerns this fixed graph.
    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        try:
            _trace(net, raw, dynamo=False)
        except Exception:  # the TorchScript exporter is deprecated; fall back, unfused
            _trace(net, raw, dynamo=True)
        _fuse(raw, path, net.encoder.config)
    raw.unlink()


def _trace(net: GenreNet, path: Path, dynamo: bool) -> None:
    ids = torch.full((2, 16), 1000, dtype=torch.int64)
    inputs = ["input_ids", "attention_mask"]
    if dynamo:
        batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
        torch.onnx.export(
            net,
            (ids, torch.ones_like(ids)),
            str(path),
            input_names=inputs,
            output_names=["logits"],
            dynamic_shapes={name: {0: batch, 1: length} for name in inputs},
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        return
    torch.onnx.export(
        net,
        (ids, torch.ones_like(ids)),
        str(path),
        input_names=inputs,
        output_names=["logits"],
        dynamic_axes={
            **{name: {0: "batch", 1: "length"} for name in inputs},
            "logits": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )


def _fuse(source: Path, target: Path, config: Any) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
    )
    fused.save_model_to_file(str(target))


def quantize_int8(source: Path, target: Path) -> None:
    """Write a dynamically quantised copy (int8 weights of the matrix products)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            # the fused nodes are ONNX Runtime's own, which ONNX shape inference cannot type
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Silence the exporters' and quantiser's log lines (they log on the root logger)."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
