"""The fine-tuned MiniLM genre model: trains, saves, reloads, and every runtime agrees.

One tiny model is trained once for the module (on CPU, one epoch over titles written
here from genre templates, 32 tokens), saved with its ONNX exports and read back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.classifier.artifact import ArtifactError, Manifest
from services.classifier.data import Dataset, LabelledTitle, TitleText
from services.classifier.transformer_model import (
    TransformerGenreModel,
    TransformerParams,
    title_text,
    train_transformer,
)

TEMPLATES = {
    "Horror": "A ghost haunts the old house and a demon hunts the terrified family at night.",
    "Comedy": "A clumsy best man wrecks the wedding in a string of hilarious, awkward pranks.",
    "Romance": "Two strangers fall in love over one summer and must choose between hearts.",
    "Science Fiction": "A starship crew explores an alien planet beyond the galaxy's edge.",
}
NAMES = ("Nightfall", "Echoes", "Harbour", "Cinder", "Glass", "Orbit", "Meadow", "Static")
PARAMS = TransformerParams(
    max_length=32, batch_size=8, epochs=1, lr=1e-4, head_lr=1e-2, eval_batch_size=16
)


def _rows(count: int, offset: int) -> list[LabelledTitle]:
    genres = list(TEMPLATES)
    rows = []
    for i in range(offset, offset + count):
        first = genres[i % len(genres)]
        labels = (first,) if i % 3 else (first, genres[(i + 1) % len(genres)])
        overview = " ".join(TEMPLATES[g] for g in labels)
        name = f"{NAMES[i % len(NAMES)]} {i}"
        rows.append(LabelledTitle(title=name, overview=overview, id=f"t:{i}", genres=labels))
    return rows


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[TransformerGenreModel, Path]:
    labels = tuple(sorted(TEMPLATES))
    train = Dataset(_rows(48, 0), labels)
    val = Dataset(_rows(12, 48), labels)
    model = train_transformer(train, val, PARAMS, device="cpu")
    folder = tmp_path_factory.mktemp("bert")
    manifest = Manifest(
        kind=model.kind,
        labels=list(model.labels),
        thresholds=model.thresholds.tolist(),
        params={"max_length": PARAMS.max_length},
    )
    model.save(folder, manifest)
    return model, folder


TITLES = [
    TitleText("Crawlspace", "Something in the walls whispers to the children after midnight."),
    TitleText("Best Man Down", "The groom's best friend loses the rings, the dog and the car."),
    TitleText("Untitled", ""),
]


def test_training_reports_an_epoch_and_one_threshold_per_label(
    saved: tuple[TransformerGenreModel, Path],
) -> None:
    model, _ = saved
    assert model.labels == tuple(sorted(TEMPLATES))
    assert model.thresholds.shape == (len(TEMPLATES),)
    assert model.report is not None
    assert model.report.best_epoch == 1


def test_saved_folder_holds_weights_tokenizer_and_both_onnx_files(
    saved: tuple[TransformerGenreModel, Path],
) -> None:
    _, folder = saved
    for name in ("model.json", "transformer.json", "head.safetensors", "model.onnx"):
        assert (folder / name).is_file(), name
    assert (folder / "model.int8.onnx").is_file()
    assert (folder / "encoder" / "model.safetensors").is_file()
    assert (folder / "encoder" / "tokenizer.json").is_file()


def test_reloaded_model_serves_with_onnx_and_matches_the_trained_one(
    saved: tuple[TransformerGenreModel, Path],
) -> None:
    trained, folder = saved
    loaded = TransformerGenreModel.load(folder)
    assert loaded.labels == trained.labels
    np.testing.assert_allclose(loaded.thresholds, trained.thresholds)
    assert loaded.params == PARAMS
    assert loaded.runtime == PARAMS.runtime

    served = trained.predict_proba(TITLES)
    assert trained.runtime == "onnx_int8"
    assert served.shape == (len(TITLES), len(TEMPLATES))
    assert served.dtype == np.float32
    np.testing.assert_allclose(loaded.predict_proba(TITLES), served, atol=1e-6)

    trained.use_runtime("torch")
    reference = trained.predict_proba(TITLES)
    for runtime, tolerance in (("torch", 1e-5), ("onnx", 1e-4), ("onnx_int8", 0.05)):
        loaded.use_runtime(runtime, threads=1)
        np.testing.assert_allclose(
            loaded.predict_proba(TITLES), reference, atol=tolerance, err_msg=runtime
        )


def test_rows_come_back_in_input_order_whatever_their_length(
    saved: tuple[TransformerGenreModel, Path],
) -> None:
    model, _ = saved
    one_by_one = np.concatenate([model.predict_proba([t]) for t in TITLES])
    np.testing.assert_allclose(model.predict_proba(TITLES), one_by_one, atol=1e-5)
    assert model.predict_proba([]).shape == (0, len(TEMPLATES))


def test_a_model_folder_of_another_kind_is_refused(tmp_path: Path) -> None:
    Manifest(kind="xgboost", labels=["Drama"], thresholds=[0.5]).write(tmp_path)
    with pytest.raises(ArtifactError, match="xgboost"):
        TransformerGenreModel.load(tmp_path)


def test_text_is_the_title_then_the_overview() -> None:
    assert title_text(TitleText("Heat", "A  cop\nand a thief.")) == "Heat. A cop and a thief."
    assert title_text(TitleText("Heat", "  ")) == "Heat"
