"""The gradient-boosted genre model: kind ``xgboost``.

Three layers, each fitted on the training split:

1. ``TitleFeaturiser``: hashed TF-IDF blocks (words of title + overview, words of the
   title, the character n-grams at the edges of the text's words) and metadata
   (``features.py``);
2. per-label linear scores over those blocks, cross-fitted (``linear_scores.py``):
   logistic regression and naive Bayes on the text's words and on its affixes, logistic
   regression on the title's words;
3. boosted trees over the scores of every label and the metadata, one booster per label,
   each stopped early on the validation split; then per-label thresholds, tuned on
   held-out predictions (``train_xgboost`` says which).

Why one booster per label rather than one vector-leaf tree per round for all labels
(``strategy="multi_output_tree"``): on validation (thresholds from cross-fitted training
rows, so validation is held out) per-label boosters scored 0.572 macro-F1 (mean of four
seeds, 0.561–0.578) against 0.567, and trained in 30–50 s against 270 s on the 2-core
build machine. Vector-leaf trees predict faster (340 trees against ~1,500; 200,000
against 54,000 titles/s on one core, features aside); the option stays for that.

On disk: ``model.json``, ``xgboost.json`` (parameters, rounds), ``features.*``,
``scorers.npz`` and one UBJSON booster per label: no pickle anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import xgboost as xgb
from numpy.typing import NDArray

from services.classifier.artifact import ArtifactError, Manifest
from services.classifier.data import Dataset, TitleText
from services.classifier.features import FeatureParams, TitleFeaturiser
from services.classifier.linear_scores import (
    Fit,
    LinearScorer,
    cross_fit,
    logistic,
    naive_bayes,
    stack,
)
from services.classifier.thresholds import tune_thresholds

KIND = "xgboost"
CONFIG_FILE = "xgboost.json"
SCORERS_FILE = "scorers.npz"
BOOSTER_DIR = "boosters"
STRATEGIES = ("per_label", "multi_output_tree")
THRESHOLD_ROWS = ("train_and_val", "train", "val")
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class XGBoostParams:
    """Everything training reads; defaults chosen on the validation split of tmdb_movies.

    There, with validation held out: learning rate 0.1 scored as 0.05 with half the trees;
    ``pos_weight_power`` 0.5 and 1 scored lower than 0 (the thresholds already handle
    imbalance); character n-grams added 0.008 macro-F1 (mean of three seeds, inside the
    seed-to-seed spread) for 3.5× slower features, so they are off.

    The affix block (each word's first 4 and 6 and last 3 characters, ``features.affixes``)
    with a logistic regression and a naive Bayes on it: 0.575 validation macro-F1 (thresholds
    from the cross-fitted training rows; mean of seeds 0–2, 0.567–0.584) against 0.567
    without (0.563–0.570); a logistic regression alone on it scored 0.572; its C at 4
    scored 0.565; more affixes (first 3–6, last 2–4 characters) scored 0.569. All
    character 2–5-grams scored 0.576 but held inference to ≈13,000 titles/s on one core.
    Per-label thresholds smoothed over neighbouring cuts, shrunk toward one shared cut, set
    at half the best F1 or taken as a bootstrap median moved validation by −0.003 to +0.004,
    no steadier than the seeds: the plain cut stays.
    """

    # features (features.FeatureParams)
    word_max_features: int = 50_000
    word_min_df: int = 2
    title_max_features: int = 20_000
    title_min_df: int = 2
    char_max_features: int = 0  # >0 adds character n-grams: +quality, ≈4× slower features
    char_min_df: int = 3
    affix_max_features: int = 50_000  # 0 leaves the affix block (and its scorers) out
    affix_min_df: int = 2
    # linear scores the trees read
    logistic_c: float = 4.0
    title_logistic_c: float = 4.0
    char_logistic_c: float = 1.0
    affix_logistic_c: float = 1.0
    naive_bayes_alpha: float = 0.1
    folds: int = 5
    # trees
    strategy: str = "per_label"
    max_depth: int = 3
    learning_rate: float = 0.1
    n_estimators: int = 2000
    early_stopping_rounds: int = 50
    subsample: float = 0.8
    colsample_bytree: float = 0.5
    min_child_weight: float = 5.0
    max_bin: int = 64
    # scale_pos_weight = (negatives / positives) ** this; 0 leaves imbalance to thresholds
    pos_weight_power: float = 0.0
    # which held-out predictions tune the thresholds (see ``train_xgboost``)
    threshold_rows: str = "train_and_val"
    n_jobs: int = 0  # training threads; 0 = every core
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
        if self.threshold_rows not in THRESHOLD_ROWS:
            raise ValueError(f"threshold_rows must be one of {', '.join(THRESHOLD_ROWS)}")
        if self.folds < 2:
            raise ValueError("folds must be at least 2 (scores are cross-fitted)")

    @property
    def threads(self) -> int:
        """Return the training threads."""
        return self.n_jobs or os.cpu_count() or 1

    def feature_params(self) -> FeatureParams:
        """Return the featuriser's share of these parameters."""
        names = {f.name for f in fields(FeatureParams)}
        return FeatureParams(**{k: v for k, v in asdict(self).items() if k in names})

    def scorer_fits(self, blocks: Sequence[str]) -> list[tuple[str, str, Fit]]:
        """Return (name, block, fit) of each linear scorer, for the blocks there are."""
        fits = [
            ("words_logistic", "text_words", logistic(self.logistic_c, self.threads)),
            ("words_bayes", "text_words", naive_bayes(self.naive_bayes_alpha)),
            ("title_logistic", "title_words", logistic(self.title_logistic_c, self.threads)),
            ("chars_logistic", "text_chars", logistic(self.char_logistic_c, self.threads)),
            ("affixes_logistic", "text_affixes", logistic(self.affix_logistic_c, self.threads)),
            ("affixes_bayes", "text_affixes", naive_bayes(self.naive_bayes_alpha)),
        ]
        return [f for f in fits if f[1] in blocks]

    def booster_params(self) -> dict[str, Any]:
        """Return the parameters every booster shares."""
        return {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "max_bin": self.max_bin,
            "nthread": self.threads,
            "seed": self.seed,
        }


class XGBoostGenreModel:
    """Featuriser, linear scorers and boosters; probabilities in ``labels`` order."""

    kind: ClassVar[str] = KIND

    def __init__(
        self,
        labels: Sequence[str],
        thresholds: NDArray[np.float64],
        params: XGBoostParams,
        featuriser: TitleFeaturiser,
        scorers: Sequence[LinearScorer],
        boosters: Sequence[xgb.Booster],
    ) -> None:
        expected = len(labels) if params.strategy == "per_label" else 1
        if len(boosters) != expected:
            raise ValueError(f"{params.strategy} needs {expected} booster(s), not {len(boosters)}")
        self.labels = tuple(labels)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.params = params
        self.featuriser = featuriser
        self.scorers = list(scorers)
        self.boosters = list(boosters)
        self.set_threads(1)

    def set_threads(self, threads: int) -> None:
        """Predict on ``threads`` CPU threads.

        1 after training or loading: the service labels small batches beside other work,
        and one core is what ``bench.classifier_xgboost`` measures.
        """
        self.threads = threads
        for booster in self.boosters:
            booster.set_param({"nthread": threads})

    @property
    def rounds(self) -> list[int]:
        """Return the number of boosting rounds of each booster."""
        return [booster.num_boosted_rounds() for booster in self.boosters]

    def booster_inputs(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        """Return what the trees read: every scorer's label scores, then the metadata."""
        blocks = self.featuriser.transform_blocks(titles)
        return np.hstack([stack(self.scorers, blocks), blocks["meta"].toarray()])

    def predict_inputs(self, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return probabilities from booster inputs (``booster_inputs``)."""
        return predict_boosters(self.boosters, inputs, len(self.labels), self.threads)

    def predict_proba(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        """Return a (titles × labels) matrix of probabilities."""
        return self.predict_inputs(self.booster_inputs(titles))

    def save(self, directory: Path, manifest: Manifest) -> None:
        """Write the manifest, the featuriser, the scorers and the boosters."""
        if manifest.kind != KIND or list(manifest.labels) != list(self.labels):
            raise ArtifactError(f"{directory}: the manifest does not describe this model")
        directory.mkdir(parents=True, exist_ok=True)
        self.featuriser.save(directory)
        arrays: dict[str, Any] = {}
        for scorer in self.scorers:
            arrays[f"{scorer.name}.weights"] = scorer.weights
            arrays[f"{scorer.name}.bias"] = scorer.bias
        np.savez_compressed(directory / SCORERS_FILE, **arrays)
        (directory / BOOSTER_DIR).mkdir(exist_ok=True)
        for i, booster in enumerate(self.boosters):
            booster.save_model(directory / BOOSTER_DIR / f"{i:03d}.ubj")
        config = {
            "labels": list(self.labels),
            "params": asdict(self.params),
            "scorers": [[s.name, s.block] for s in self.scorers],
            "rounds": self.rounds,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model folder written by ``save``."""
        manifest = Manifest.read(directory, kind=KIND)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text())
            # a model saved before the affix block had none: its default must not add one
            params = XGBoostParams(**{"affix_max_features": 0, **config["params"]})
            with np.load(directory / SCORERS_FILE, allow_pickle=False) as arrays:
                scorers = [
                    LinearScorer(name, block, arrays[f"{name}.weights"], arrays[f"{name}.bias"])
                    for name, block in config["scorers"]
                ]
            boosters = [
                xgb.Booster(model_file=str(directory / BOOSTER_DIR / f"{i:03d}.ubj"))
                for i in range(len(config["rounds"]))
            ]
        except (OSError, ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
            raise ArtifactError(f"{directory}: unreadable xgboost model: {exc}") from exc
        if config["labels"] != list(manifest.labels):
            raise ArtifactError(f"{directory}: manifest and {CONFIG_FILE} disagree on labels")
        thresholds = np.asarray(manifest.thresholds, dtype=np.float64)
        featuriser = TitleFeaturiser.load(directory)
        try:
            return cls(manifest.labels, thresholds, params, featuriser, scorers, boosters)
        except ValueError as exc:
            raise ArtifactError(f"{directory}: {exc}") from exc


def predict_boosters(
    boosters: Sequence[xgb.Booster], inputs: NDArray[np.float32], labels: int, threads: int
) -> NDArray[np.float32]:
    """Return (rows × labels) probabilities of per-label boosters or one multi-output."""
    if len(inputs) == 0:
        return np.zeros((0, labels), dtype=np.float32)
    # one DMatrix for every booster: inplace_predict would rebuild it per booster, and that
    # costs more than the trees on a small batch (2.7 against 1.5 ms for one title)
    matrix = xgb.DMatrix(inputs, nthread=threads)
    columns = [np.asarray(b.predict(matrix), dtype=np.float32) for b in boosters]
    proba = columns[0] if len(columns) == 1 else np.column_stack(columns)
    return proba.reshape(len(inputs), labels)


def train_xgboost(
    train: Dataset,
    val: Dataset,
    params: XGBoostParams | None = None,
    progress: Progress | None = None,
) -> XGBoostGenreModel:
    """Train on ``train``; stop each booster early on ``val``; tune thresholds held out.

    Thresholds are tuned on predictions no booster trained on: with ``threshold_rows``
    ``train_and_val`` (the default), the validation rows plus every training row scored by
    boosters cross-fitted without it. Validation alone holds a handful of the rare genres
    (9 documentaries in tmdb_movies), and thresholds tuned on so few overfit them: cut on
    one half of validation, scored on the other, macro-F1 lost 0.01 against thresholds
    from the cross-fitted training rows. ``train`` leaves validation out entirely (its
    figures are then unbiased); ``val`` is the plain way.
    """
    params = params or XGBoostParams()
    report = progress or (lambda stage, done: None)
    labels = train.labels
    y_train, y_val = train.label_matrix(labels), val.label_matrix(labels)
    if not len(train) or not len(val):
        raise ValueError("training needs rows in both the train and the val split")

    report("features", 0.0)
    featuriser = TitleFeaturiser.fit(train.rows, params.feature_params())
    train_blocks = featuriser.transform_blocks(train.rows)
    val_blocks = featuriser.transform_blocks(val.rows)
    fits = params.scorer_fits(list(featuriser.blocks))
    scorers, held_out = [], []
    for i, (name, block, fit) in enumerate(fits):
        report("linear scores", i / len(fits))
        scorer, scores = cross_fit(
            name, block, fit, train_blocks[block], y_train, params.folds, params.seed
        )
        scorers.append(scorer)
        held_out.append(scores)
    train_inputs = np.hstack([*held_out, train_blocks["meta"].toarray()])
    val_inputs = np.hstack([stack(scorers, val_blocks), val_blocks["meta"].toarray()])

    boosters = _boost(params, train_inputs, y_train, val_inputs, y_val, report)
    model = XGBoostGenreModel(
        labels, np.full(len(labels), 0.5), params, featuriser, scorers, boosters
    )
    val_proba = model.predict_inputs(val_inputs)
    if params.threshold_rows == "val":
        model.thresholds = tune_thresholds(y_val, val_proba)
        return model
    train_proba = _cross_fitted_proba(params, model.rounds, train_inputs, y_train, report)
    if params.threshold_rows == "train":
        model.thresholds = tune_thresholds(y_train, train_proba)
    else:
        model.thresholds = tune_thresholds(
            np.vstack([y_train, y_val]), np.vstack([train_proba, val_proba])
        )
    return model


def _cross_fitted_proba(
    params: XGBoostParams,
    rounds: Sequence[int],
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int8],
    report: Progress,
) -> NDArray[np.float32]:
    """Score each training row with boosters grown, for as many rounds, without its fold."""
    order = np.random.default_rng(params.seed + 1).permutation(len(x_train))
    proba = np.zeros(y_train.shape, dtype=np.float32)
    for k, part in enumerate(np.array_split(order, params.folds)):
        report("thresholds", k / params.folds)
        rest = np.setdiff1d(order, part, assume_unique=True)
        boosters = _boost(params, x_train[rest], y_train[rest], None, None, report, rounds)
        proba[part] = predict_boosters(boosters, x_train[part], y_train.shape[1], params.threads)
    report("thresholds", 1.0)
    return proba


def _boost(
    params: XGBoostParams,
    x_train: NDArray[np.float32],
    y_train: NDArray[np.int8],
    x_val: NDArray[np.float32] | None,
    y_val: NDArray[np.int8] | None,
    report: Progress,
    rounds: Sequence[int] | None = None,
) -> list[xgb.Booster]:
    """Grow the boosters: each cut at its best round on the validation rows, or grown
    for ``rounds`` (one per booster) when there are none.
    """
    shared = params.booster_params()
    d_train = xgb.QuantileDMatrix(x_train, max_bin=params.max_bin, nthread=params.threads)
    d_val = xgb.DMatrix(x_val, nthread=params.threads) if x_val is not None else None
    prior = np.clip(y_train.mean(axis=0), 0.01, 0.99)
    if params.strategy == "multi_output_tree":
        return [
            _grow(
                params,
                {**shared, "multi_strategy": "multi_output_tree"},
                d_train,
                y_train,
                d_val,
                y_val,
                rounds[0] if rounds else None,
            )
        ]
    boosters = []
    for j in range(y_train.shape[1]):
        if rounds is None:
            report("boosting", j / y_train.shape[1])
        negatives_per_positive = (1 - prior[j]) / prior[j]
        options = {
            **shared,
            "base_score": float(prior[j]),  # a label absent from train still has a start
            "scale_pos_weight": float(negatives_per_positive**params.pos_weight_power),
        }
        y_val_j = y_val[:, j] if y_val is not None else None
        fixed = rounds[j] if rounds else None
        boosters.append(_grow(params, options, d_train, y_train[:, j], d_val, y_val_j, fixed))
    return boosters


def _grow(
    params: XGBoostParams,
    options: dict[str, Any],
    d_train: xgb.DMatrix,
    y_train: NDArray[np.int8],
    d_val: xgb.DMatrix | None,
    y_val: NDArray[np.int8] | None,
    rounds: int | None,
) -> xgb.Booster:
    d_train.set_label(y_train)
    if rounds is not None or d_val is None or y_val is None:
        return xgb.train(options, d_train, num_boost_round=rounds or params.n_estimators)
    d_val.set_label(y_val)
    booster = xgb.train(
        options,
        d_train,
        num_boost_round=params.n_estimators,
        evals=[(d_val, "val")],
        early_stopping_rounds=params.early_stopping_rounds,
        verbose_eval=False,
    )
    return booster[: booster.best_iteration + 1]
