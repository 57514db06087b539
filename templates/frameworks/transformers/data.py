"""The data set, split into training, validation and test sets.

What every data set gives the rest of the code (the notebook, the model, the tests): texts as
a list of strings, integer labels 0..classes-1, and one name per class. ``load`` splits them,
stratified by class and seeded.
"""

import csv
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
from sklearn.model_selection import train_test_split

from .config import ConfigError, DataConfig


@dataclass(frozen=True)
class Split:
    x_train: list[str]
    y_train: np.ndarray
    x_val: list[str]
    y_val: np.ndarray
    x_test: list[str]
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


# TUTORIAL-DEMO: the demo's data set. Replace it with yours (AUTHORING.md, "Your data").
def sentences() -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """400 one-line reviews, negative or positive, shipped in this package: no download."""
    text = files(__package__).joinpath("sentences.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    class_names = tuple(sorted({row["label"] for row in rows}))
    labels = np.array([class_names.index(row["label"]) for row in rows], dtype=np.int64)
    return [row["text"] for row in rows], labels, class_names


DATASETS = {"sentences": sentences}  # the names `data.dataset` may take in configs/*.yaml


def load(cfg: DataConfig, seed: int) -> Split:
    """Load ``cfg.dataset`` and split it, stratified by class, the same way for the same seed."""
    if cfg.dataset not in DATASETS:
        raise ConfigError(f"data.dataset {cfg.dataset!r} is not one of {sorted(DATASETS)}.")
    texts, labels, class_names = DATASETS[cfg.dataset]()
    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            texts, labels, test_size=cfg.test_size, stratify=labels, random_state=seed
        )
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest,
            y_rest,
            test_size=cfg.val_size / (1 - cfg.test_size),
            stratify=y_rest,
            random_state=seed,
        )
        if cfg.subset is not None and cfg.subset < len(y_train):
            x_train, _, y_train, _ = train_test_split(
                x_train, y_train, train_size=cfg.subset, stratify=y_train, random_state=seed
            )
    except ValueError as error:  # a split too small to hold every class
        reason = " ".join(str(error).split())
        raise ConfigError(f"The data cannot be split as data.* asks: {reason}") from None
    return Split(x_train, y_train, x_val, y_val, x_test, y_test, class_names)
