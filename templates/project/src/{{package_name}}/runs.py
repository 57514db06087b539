"""Run folders: every training run leaves its metrics, resolved config and library versions.

::

    runs/20260101-120000-default/
        config.yaml     the resolved hyperparameters (rerun with --config this file)
        metrics.json    test/validation scores and the per-epoch history (deterministic)
        run.json        when it ran and how long it took (differs between runs)
        versions.json   Python, platform and library versions
"""

from __future__ import annotations

import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from .config import Config

RUN_FILES = ("config.yaml", "metrics.json", "run.json", "versions.json")
CORE_LIBRARIES = ("numpy", "scikit-learn", "pyyaml")


def new_run_dir(root: Path, name: str) -> Path:
    """A fresh folder ``root/<timestamp>-<name>`` (suffixed if one already exists)."""
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    path = root / stem
    counter = 1
    while path.exists():
        counter += 1
        path = root / f"{stem}-{counter}"
    path.mkdir(parents=True)
    return path


def library_versions(extra: dict[str, str]) -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    versions.update({name: metadata.version(name) for name in CORE_LIBRARIES})
    versions.update(extra)
    return versions


def save_run(
    run_dir: Path,
    cfg: Config,
    metrics: dict[str, Any],
    timing: dict[str, Any],
    versions: dict[str, str],
) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(
        yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8"
    )
    _write_json(run_dir / "metrics.json", metrics)
    _write_json(run_dir / "run.json", {**timing, "argv": sys.argv})
    _write_json(run_dir / "versions.json", versions)


def load_metrics(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
