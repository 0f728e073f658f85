"""``trending train|evaluate|models`` and ``dvc repro`` on the project's authored data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.classifier.bootstrap import DEMO_DATA, DEMO_PARAMS
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def trending(settings: CommonSettings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "OBJECT_STORE_URL": settings.object_store_url,
            **env,
        },
    )


def light_params(path: Path, **xgboost: object) -> Path:
    path.write_text(yaml.safe_dump({"xgboost": {**DEMO_PARAMS["xgboost"], **xgboost}}))
    return path


def test_train_register_evaluate_promote(settings: CommonSettings, tmp_path: Path) -> None:
    params = light_params(tmp_path / "params.yaml")
    model_dir = tmp_path / "model"
    done = trending(
        settings,
        *("train", "--model", "xgboost", "--data", str(DEMO_DATA)),
        *("--output", str(model_dir), "--params", str(params), "--register"),
        WANDB_MODE="offline",
        WANDB_DIR=str(tmp_path),
        WANDB_SILENT="true",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["kind"] == "xgboost"
    assert 0 < summary["macro_f1"] <= 1
    report = model_dir / "report"
    assert {p.name for p in report.glob("*.png")}, "the report has plots"
    assert json.loads((report / "metrics.json").read_text())["macro_f1"] == summary["macro_f1"]
    assert list((tmp_path / "wandb").glob("offline-run-*")), "W&B logged the run offline"

    evaluated = trending(
        settings, "evaluate", "--model-path", str(model_dir), "--data", str(DEMO_DATA)
    )
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    assert {"macro_f1", "micro_f1", "weighted_f1", "per_label"} <= set(metrics)
    assert set(metrics["per_label"]) <= set(metrics["labels"])

    version = summary["version"]
    listed = trending(settings, "models", "list")
    assert version in listed.stdout
    promoted = trending(settings, "models", "promote", "genres", version)
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout)["promoted"] is True
    shown = json.loads(trending(settings, "models", "show", "genres", version).stdout)
    assert shown["stage"] == "production"
    assert shown["data_card_hash"]
    unknown = trending(settings, "models", "show", "genres", "no-such-version")
    assert unknown.returncode == 1
    assert "no model genres no-such-version" in unknown.stderr


def test_a_bad_training_file_is_named(settings: CommonSettings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("title,plot\nA,B\n")
    done = trending(
        settings, "train", "--model", "xgboost", "--data", str(bad), "--output", str(tmp_path)
    )
    assert done.returncode == 1
    assert "bad.csv: a training file needs the columns" in " ".join(done.stderr.split())
    wrong = trending(
        settings, "train", "--model", "svm", "--data", str(bad), "--output", str(tmp_path)
    )
    assert wrong.returncode == 2
    assert "choose one of xgboost, bert, ensemble" in wrong.stderr


def dvc(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(BIN / "dvc"), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"dvc {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def git(workdir: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=workdir, check=True, capture_output=True)


def test_dvc_repro_rebuilds_the_model_and_metrics_diff_compares_runs(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    (work / "services").symlink_to(REPO / "services")
    shutil.copy(REPO / "dvc.yaml", work)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["xgboost"] = {**params["xgboost"], **DEMO_PARAMS["xgboost"], "n_estimators": 60}
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    git(work, "init", "-q")
    git(work, "config", "user.email", "test@trending.local")
    git(work, "config", "user.name", "test")
    dvc(work, "init", "-q")
    dvc(work, "config", "core.analytics", "false")

    dvc(work, "repro")
    first = json.loads((work / "build" / "metrics.json").read_text())
    assert 0 < first["macro_f1"] <= 1
    git(work, "add", "-A")
    git(work, "commit", "-qm", "first run")

    params["xgboost"]["n_estimators"] = 5
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    status = dvc(work, "status").stdout
    assert "train" in status  # the parameter change makes the model stale
    dvc(work, "repro")
    diff = json.loads(dvc(work, "metrics", "diff", "--json").stdout)
    changed = diff["build/metrics.json"]
    assert changed["macro_f1"]["old"] == first["macro_f1"]
    assert "new" in changed["macro_f1"]
