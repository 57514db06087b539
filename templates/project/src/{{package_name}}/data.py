"""The data set: scikit-learn's bundled 8x8 handwritten digits (no download needed).

``load`` returns a seeded, stratified train/validation/test split of images scaled
to [0, 1], shaped (n, 8, 8), as float32 arrays that every framework accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .config import DataConfig

DATASETS = {"digits": load_digits}


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int]:
        return self.x_train.shape[1:]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def load(cfg: DataConfig, seed: int) -> Split:
    """Load ``cfg.dataset`` and split it, stratified by class, reproducibly for ``seed``."""
    if cfg.dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {cfg.dataset!r}: choose one of {sorted(DATASETS)}.")
    bunch = DATASETS[cfg.dataset]()
    images = (bunch.images / bunch.images.max()).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        images, labels, test_size=cfg.test_size, stratify=labels, random_state=seed
    )
    val_fraction = cfg.val_size / (1.0 - cfg.test_size)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction, stratify=y_rest, random_state=seed
    )
    if cfg.subset is not None and cfg.subset < len(y_train):
        x_train, _, y_train, _ = train_test_split(
            x_train, y_train, train_size=cfg.subset, stratify=y_train, random_state=seed
        )
    names = tuple(str(name) for name in bunch.target_names)
    return Split(x_train, y_train, x_val, y_val, x_test, y_test, class_names=names)
