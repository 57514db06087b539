"""Run folders: every training run leaves its metrics, resolved config, device and versions.

::

    runs/20260101-120000-default/
        config.yaml     the resolved hyperparameters (rerun with --config this file)
        metrics.json    test/validation scores and the per-epoch history (deterministic)
        run.json        when it ran, how long it took, on which device (differs between runs)
        versions.json   Python, platform and library versions
"""

import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import yaml

from .config import Config

RUN_FILES = ("config.yaml", "metrics.json", "run.json", "versions.json")
CORE_LIBRARIES = ("numpy", "scikit-learn", "pyyaml")


def library_versions(framework: dict[str, str]) -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    versions.update({name: metadata.version(name) for name in CORE_LIBRARIES})
    return {**versions, **framework}


def save_run(root: Path, cfg: Config, metrics: dict, run: dict, versions: dict) -> Path:
    """Write a fresh folder ``root/<time>-<profile>`` (suffixed if it exists); return it."""
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.name}"
    folder, counter = root / stem, 1
    while folder.exists():
        counter += 1
        folder = root / f"{stem}-{counter}"
    folder.mkdir(parents=True)
    config = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    (folder / "config.yaml").write_text(config, encoding="utf-8")
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "run.json", {**run, "argv": sys.argv})
    write_json(folder / "versions.json", versions)
    return folder


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
