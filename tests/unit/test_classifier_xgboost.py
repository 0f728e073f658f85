"""The XGBoost genre model and the ensemble: they learn, save, load and answer the same.

Titles are written here from word pools per genre (a few hundred, so training takes a
second or two); the model under test is trained once per module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from services.classifier.artifact import ArtifactError, Manifest, decide
from services.classifier.data import Dataset, LabelledTitle, TitleText
from services.classifier.ensemble import EnsembleGenreModel, build_ensemble, weight_grid
from services.classifier.evaluation import evaluate
from services.classifier.features import FeatureParams, TitleFeaturiser
from services.classifier.kinds import load_model
from services.classifier.xgboost_model import XGBoostGenreModel, XGBoostParams, train_xgboost

POOLS = {
    "Horror": "ghost haunted demon terror blood scream cellar possessed night curse",
    "Comedy": "hilarious prank awkward wedding clumsy roommate road trip blunder party",
    "Romance": "love heart kiss summer letters falls longing proposal sweetheart",
    "Science Fiction": "starship alien planet robot orbit galaxy android colony warp",
    "Western": "sheriff outlaw frontier ranch saloon cattle gunslinger desert posse",
}
FILLER = ("a", "the", "of", "and", "with", "in", "on", "their", "who", "must", "after")
NAMES = ("Echo", "Harbour", "Cinder", "Glass", "Meadow", "Static", "Rust", "Ember", "Vale")
PARAMS = XGBoostParams(
    word_min_df=1,
    title_min_df=1,
    folds=2,
    n_estimators=40,
    early_stopping_rounds=10,
    learning_rate=0.3,
    n_jobs=1,
)


def _rows(count: int, seed: int) -> list[LabelledTitle]:
    rng = np.random.default_rng(seed)
    genres = list(POOLS)
    rows = []
    for i in range(count):
        chosen = list(rng.choice(genres, size=1 + int(rng.random() < 0.3), replace=False))
        words = [w for g in chosen for w in rng.choice(POOLS[g].split(), 4)]
        words += list(rng.choice(FILLER, 5))
        rng.shuffle(words)
        rows.append(
            LabelledTitle(
                title=f"{rng.choice(NAMES)} {i}",
                overview=" ".join(words).capitalize() + ".",
                year=int(rng.integers(1950, 2025)),
                id=f"synthetic:{seed}:{i}",
                genres=tuple(sorted(chosen)),
            )
        )
    return rows


LABELS = tuple(sorted(POOLS))
TRAIN = Dataset(_rows(240, 1), LABELS)
VAL = Dataset(_rows(60, 2), LABELS)
TEST = Dataset(_rows(60, 3), LABELS)


def _manifest(model: XGBoostGenreModel | EnsembleGenreModel) -> Manifest:
    return Manifest(
        kind=model.kind,
        labels=list(model.labels),
        thresholds=[float(t) for t in model.thresholds],
        params={"test": True},
    )


@pytest.fixture(scope="module")
def model() -> XGBoostGenreModel:
    stages: list[str] = []
    trained = train_xgboost(TRAIN, VAL, PARAMS, lambda stage, done: stages.append(stage))
    assert {"features", "linear scores", "boosting", "thresholds"} <= set(stages)
    return trained


def test_it_learns_the_genres(model: XGBoostGenreModel) -> None:
    proba = model.predict_proba(TEST.rows)

    report = evaluate(TEST.label_matrix(LABELS), proba, model.thresholds, list(LABELS))

    assert proba.shape == (len(TEST), len(LABELS))
    assert proba.dtype == np.float32
    assert report.macro_f1 > 0.8


def test_thresholds_are_tuned_per_label(model: XGBoostGenreModel) -> None:
    assert model.thresholds.shape == (len(LABELS),)
    assert ((model.thresholds > 0) & (model.thresholds < 1)).all()
    assert len(set(model.thresholds.round(2))) > 1


def test_save_then_load_gives_the_same_probabilities(
    model: XGBoostGenreModel, tmp_path: Path
) -> None:
    model.save(tmp_path, _manifest(model))

    loaded = load_model(tmp_path)

    assert isinstance(loaded, XGBoostGenreModel)
    assert loaded.labels == model.labels
    np.testing.assert_array_equal(loaded.thresholds, model.thresholds)
    np.testing.assert_array_equal(loaded.predict_proba(TEST.rows), model.predict_proba(TEST.rows))
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    assert Manifest.read(tmp_path).params == {"test": True}


def test_the_affix_block_and_its_scorers_are_trained_and_saved(
    model: XGBoostGenreModel, tmp_path: Path
) -> None:
    assert "text_affixes" in model.featuriser.blocks
    assert {"affixes_logistic", "affixes_bayes"} <= {s.name for s in model.scorers}
    model.save(tmp_path, _manifest(model))
    config = tmp_path / "xgboost.json"
    saved = json.loads(config.read_text())
    for key in ("affix_max_features", "affix_min_df", "affix_logistic_c"):
        del saved["params"][key]  # as a model saved before the block was written
    config.write_text(json.dumps(saved))

    loaded = XGBoostGenreModel.load(tmp_path)

    assert loaded.params.affix_max_features == 0  # not the new default
    np.testing.assert_array_equal(loaded.predict_proba(TEST.rows), model.predict_proba(TEST.rows))


def test_an_empty_batch_gives_an_empty_matrix(model: XGBoostGenreModel) -> None:
    assert model.predict_proba([]).shape == (0, len(LABELS))


def test_a_folder_of_another_kind_or_a_broken_one_is_refused(
    model: XGBoostGenreModel, tmp_path: Path
) -> None:
    model.save(tmp_path / "good", _manifest(model))
    Manifest(kind="bert", labels=list(LABELS), thresholds=[0.5] * 5).write(tmp_path / "bert")
    with pytest.raises(ArtifactError, match="not 'xgboost'"):
        XGBoostGenreModel.load(tmp_path / "bert")
    (tmp_path / "good" / "boosters" / "000.ubj").write_bytes(b"not a booster")
    with pytest.raises(ArtifactError, match="unreadable"):
        XGBoostGenreModel.load(tmp_path / "good")


def test_a_manifest_for_another_model_is_refused(model: XGBoostGenreModel, tmp_path: Path) -> None:
    wrong = Manifest(kind="xgboost", labels=["Drama"], thresholds=[0.5])
    with pytest.raises(ArtifactError, match="does not describe"):
        model.save(tmp_path, wrong)


def test_unknown_strategy_or_threshold_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="strategy"):
        XGBoostParams(strategy="forest")
    with pytest.raises(ValueError, match="threshold_rows"):
        XGBoostParams(threshold_rows="test")


def test_one_multi_output_booster_round_trips(tmp_path: Path) -> None:
    multi = train_xgboost(TRAIN, VAL, replace(PARAMS, strategy="multi_output_tree"))
    multi.save(tmp_path, _manifest(multi))

    loaded = XGBoostGenreModel.load(tmp_path)

    assert len(loaded.boosters) == 1
    np.testing.assert_array_equal(loaded.predict_proba(TEST.rows), multi.predict_proba(TEST.rows))


# --- the featuriser ----------------------------------------------------------------------

SMALL = FeatureParams(
    word_min_df=1,
    title_min_df=1,
    char_max_features=1000,
    char_min_df=1,
    affix_max_features=1000,
    affix_min_df=1,
)


def test_words_and_adjacent_pairs_are_the_columns() -> None:
    featuriser = TitleFeaturiser.fit(
        [TitleText("Red", "fox"), TitleText("Red", "dog")],
        FeatureParams(word_min_df=1, title_min_df=1),
    )
    # text "red fox" and "red dog": red, fox, dog, "red fox", "red dog"; the title: red
    assert featuriser.blocks["text_words"].size == 5
    assert featuriser.blocks["title_words"].size == 1


def test_empty_and_non_latin_texts_are_featurised() -> None:
    titles = [
        TitleText("千と千尋の神隠し", "少女が神々の世界に迷い込む。"),
        TitleText("Брат", "Демобилизованный солдат приезжает в Петербург."),
        TitleText("", ""),
        TitleText("😀 Emoji_Movie!!", "   "),
        TitleText("Nul\0byte", "in\0the middle"),
    ]
    featuriser = TitleFeaturiser.fit(titles, SMALL)

    matrix = featuriser.transform(titles)

    assert matrix.shape == (len(titles), featuriser.width)
    assert matrix.dtype == np.float32
    assert np.isfinite(matrix.data).all()
    text = featuriser.slices["text_words"]
    assert matrix[0, text].nnz > 0  # Japanese
    assert matrix[1, text].nnz > 0  # Russian
    assert matrix[2, text].nnz == 0
    norms = np.sqrt(matrix[:, text].multiply(matrix[:, text]).sum(axis=1)).A1
    np.testing.assert_allclose(norms, [1, 1, 0, 1, 1], atol=1e-6)


texts = st.text(st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=6), st.integers(0, 5))
def test_a_titles_row_does_not_depend_on_its_batch(pairs: list[tuple[str, str]], pick: int) -> None:
    titles = [TitleText(t, o) for t, o in pairs]
    featuriser = TitleFeaturiser.fit(titles, SMALL)
    chosen = titles[pick % len(titles)]

    alone = featuriser.transform([chosen]).toarray()
    in_batch = featuriser.transform(titles).toarray()[pick % len(titles)]

    np.testing.assert_allclose(alone[0], in_batch, rtol=1e-6)


def test_features_save_and_load(tmp_path: Path) -> None:
    titles = TRAIN.rows[:50]
    featuriser = TitleFeaturiser.fit(titles, SMALL)
    featuriser.save(tmp_path)

    loaded = TitleFeaturiser.load(tmp_path)

    assert (featuriser.transform(titles) != loaded.transform(titles)).nnz == 0
    config = tmp_path / "features.json"
    config.write_text(config.read_text().replace('"hashing": 2', '"hashing": 1'))
    with pytest.raises(ArtifactError, match="another version"):
        TitleFeaturiser.load(tmp_path)


# --- the ensemble ------------------------------------------------------------------------


class _Fixed:
    """A member that always answers the same probabilities (no folder of its own)."""

    kind: ClassVar[str] = "fixed"

    def __init__(self, labels: Sequence[str], value: float) -> None:
        self.labels = tuple(labels)
        self.thresholds = np.full(len(labels), 0.5)
        self.value = value

    def predict_proba(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        return np.full((len(titles), len(self.labels)), self.value, dtype=np.float32)

    def save(self, directory: Path, manifest: Manifest) -> None:
        manifest.params = {"value": self.value}
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        manifest = Manifest.read(directory, kind=cls.kind)
        return cls(manifest.labels, float(manifest.params["value"]))


def test_each_label_averages_the_members_that_have_it() -> None:
    ensemble = EnsembleGenreModel(
        [_Fixed(["Horror", "Comedy"], 0.2), _Fixed(["Comedy", "Western"], 0.8)], [1.0, 3.0]
    )

    proba = ensemble.predict_proba([TitleText("x", "y")])

    assert ensemble.labels == ("Horror", "Comedy", "Western")
    np.testing.assert_allclose(proba[0], [0.2, 0.25 * 0.2 + 0.75 * 0.8, 0.8])


def test_the_weight_grid_covers_the_simplex() -> None:
    grid = weight_grid(3, 0.5)
    assert len(grid) == 6
    assert all(w.sum() == pytest.approx(1) and (w >= 0).all() for w in grid)


def test_ensemble_is_tuned_on_val_and_round_trips(model: XGBoostGenreModel, tmp_path: Path) -> None:
    other = train_xgboost(TRAIN, VAL, replace(PARAMS, seed=7))
    ensemble = build_ensemble([model, other], VAL)
    ensemble.save(tmp_path, _manifest(ensemble))

    loaded = load_model(tmp_path)

    assert isinstance(loaded, EnsembleGenreModel)
    assert ensemble.weights.sum() == pytest.approx(1)
    assert [m.kind for m in loaded.members] == ["xgboost", "xgboost"]
    np.testing.assert_array_equal(loaded.weights, ensemble.weights)
    np.testing.assert_array_equal(loaded.thresholds, ensemble.thresholds)
    proba = ensemble.predict_proba(TEST.rows)
    np.testing.assert_array_equal(loaded.predict_proba(TEST.rows), proba)
    decided = decide(proba, ensemble.thresholds)
    assert decided.shape == (len(TEST), len(LABELS))
    config = tmp_path / "ensemble.json"
    config.write_text(config.read_text().replace("members/0-xgboost", "../elsewhere"))
    with pytest.raises(ArtifactError, match="outside the model"):
        EnsembleGenreModel.load(tmp_path)


def test_the_fixed_test_model_round_trips_and_refuses_another_kind(tmp_path: Path) -> None:
    model = _Fixed(["Horror", "Comedy"], 0.3)
    model.save(tmp_path, Manifest(kind="fixed", labels=["Horror", "Comedy"], thresholds=[0.5, 0.5]))
    again = _Fixed.load(tmp_path)
    assert (again.labels, again.value) == (model.labels, 0.3)
    with pytest.raises(ArtifactError, match="a 'fixed' model, not 'xgboost'"):
        Manifest.read(tmp_path, kind="xgboost")
