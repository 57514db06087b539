"""Train and evaluate the model; the command-line entry point of the tutorial.

    python -m <package>.train --config configs/default.yaml
    python -m <package>.train --config smoke --set train.lr=0.01 --set train.epochs=5

Every run writes a run folder (see ``runs.py``). With the same config and seed, two
runs give identical ``metrics.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import data, engine, metrics, runs
from .config import Config, ConfigError, TrainConfig, load_config
from .model import build_model

PROFILE_ENV = "TUTORIAL_PROFILE"

EpochCallback = Callable[[dict[str, Any], int], None]


def print_progress(row: dict[str, Any], epochs: int) -> None:
    """One line per epoch: the training loss and accuracy, and the validation accuracy."""
    print(
        f"epoch {row['epoch']:>3}/{epochs}  loss {row['loss']:.4f}  "
        f"accuracy {row['accuracy']:.3f}  val_loss {row['val_loss']:.4f}  "
        f"val_accuracy {row['val_accuracy']:.3f}",
        flush=True,
    )


def fit(
    model: Any,
    split: data.Split,
    cfg: TrainConfig,
    seed: int,
    on_epoch: EpochCallback | None = None,
) -> list[dict[str, Any]]:
    """Train ``model`` for ``cfg.epochs`` epochs; returns the per-epoch history.

    The shuffling order comes from NumPy, seeded, so it is the same for every framework.
    """
    state = engine.prepare(model, cfg)
    order_rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, cfg.epochs + 1):
        order = order_rng.permutation(len(split.y_train))
        loss, accuracy = engine.train_epoch(
            model, state, split.x_train[order], split.y_train[order], cfg.batch_size
        )
        val = metrics.evaluate(engine.predict(model, split.x_val), split.y_val, split.num_classes)
        row = {
            "epoch": epoch,
            "loss": loss,
            "accuracy": accuracy,
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
        }
        history.append(row)
        if on_epoch is not None:
            on_epoch(row, cfg.epochs)
    return history


def evaluate(model: Any, split: data.Split) -> dict[str, Any]:
    """Test-set accuracy, loss and confusion matrix, plus the predicted probabilities."""
    probabilities = engine.predict(model, split.x_test)
    return {
        **metrics.evaluate(probabilities, split.y_test, split.num_classes),
        "probabilities": probabilities,
    }


def run(
    cfg: Config, runs_dir: Path | None = None, on_epoch: EpochCallback | None = print_progress
) -> Path:
    """The whole pipeline: seed, load data, build, train, evaluate, write a run folder."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    engine.setup(seed=cfg.seed, threads=cfg.threads)
    split = data.load(cfg.data, seed=cfg.seed)
    model = build_model(cfg.model, split.image_shape, split.num_classes)
    t1 = time.perf_counter()
    history = fit(model, split, cfg.train, seed=cfg.seed, on_epoch=on_epoch)
    t2 = time.perf_counter()
    test = evaluate(model, split)
    scores = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "val_accuracy": history[-1]["val_accuracy"] if history else None,
        "epochs": cfg.train.epochs,
        "sizes": split.sizes(),
        "parameters": engine.count_parameters(model),
        "confusion_matrix": test["confusion_matrix"],
        "history": history,
    }
    timing = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": {
            "setup": round(t1 - t0, 3),
            "train": round(t2 - t1, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
    }
    run_dir = runs.new_run_dir(Path(runs_dir or cfg.runs_dir), cfg.name)
    runs.save_run(run_dir, cfg, scores, timing, runs.library_versions(engine.versions()))
    return run_dir


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.train", description="Train and evaluate the model."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get(PROFILE_ENV, "default"),
        help=f"profile name (configs/NAME.yaml) or YAML path (default: ${PROFILE_ENV} or default)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one hyperparameter, e.g. --set train.lr=0.01 (repeatable)",
    )
    parser.add_argument("--runs-dir", type=Path, help="where run folders go (default: runs_dir)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run_dir = run(cfg, args.runs_dir, on_epoch=None if args.quiet else print_progress)
    scores = runs.load_metrics(run_dir)
    print(f"test accuracy {scores['test_accuracy']:.4f}; run folder: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
