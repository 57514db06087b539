"""Experiment tracking with MLflow: every training run's parameters, metrics, config and model,
logged to a local store beside the run folders (an SQLite file, no server).

    mlflow ui --backend-store-uri sqlite:///mlflow.db   # then open http://127.0.0.1:5000

``tracking_store`` in configs/default.yaml names the store's file, in the folder that holds
``runs_dir`` (so ``runs/`` and ``mlflow.db`` sit side by side); the artefacts (the config and
the model) go to ``mlartifacts/`` beside it. The smoke profile sets it to null: the tests and
CI log nowhere, and your store holds your real runs only.
"""

import logging
from pathlib import Path
from tempfile import TemporaryDirectory

import mlflow

from .config import Config

EXPERIMENT = __package__  # one MLflow experiment per tutorial, named after its package
logging.getLogger("mlflow").setLevel(logging.WARNING)  # not its INFO lines about the database


def store_uri(cfg: Config, runs_dir: Path) -> str | None:
    """``sqlite:////abs/path/mlflow.db`` beside ``runs_dir``; None when tracking is off."""
    if cfg.tracking_store is None:
        return None
    return f"sqlite:///{(runs_dir.resolve().parent / cfg.tracking_store)}"


def flat(section: dict, prefix: str = "") -> dict:
    """``{"train": {"lr": 0.001}}`` -> ``{"train.lr": 0.001}`` (MLflow's parameters are flat)."""
    pairs = {}
    for key, value in section.items():
        if isinstance(value, dict):
            pairs.update(flat(value, f"{prefix}{key}."))
        else:
            pairs[f"{prefix}{key}"] = value
    return pairs


def log_run(cfg: Config, runs_dir: Path, run_dir: Path, scores: dict, save_model) -> str | None:
    """Log one training run; its MLflow run id (None when ``tracking_store`` is null).

    ``save_model(folder)`` writes the trained model into a folder, logged as the artefact
    ``model``.
    """
    uri = store_uri(cfg, runs_dir)
    if uri is None:
        return None
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        artifacts = (runs_dir.resolve().parent / "mlartifacts").as_uri()
        mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts)
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=run_dir.name) as run:
        mlflow.log_params(flat(cfg.to_dict()))
        for row in scores["history"]:
            mlflow.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=row["epoch"])
        mlflow.log_metrics({key: scores[key] for key in ("test_accuracy", "test_loss")})
        mlflow.log_artifact(str(run_dir / "config.yaml"))
        with TemporaryDirectory() as folder:
            save_model(Path(folder))
            mlflow.log_artifacts(folder, artifact_path="model")
    return run.info.run_id
