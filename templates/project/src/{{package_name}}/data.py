"""The data set, split into training, validation and test sets.

What every data set gives the rest of the code (the notebook, the model, the tests):
images as float32 arrays shaped (n, height, width, channels), integer labels 0..classes-1,
and one name per class. ``load`` splits them, stratified by class and seeded.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .config import ConfigError, DataConfig


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
    def image_shape(self) -> tuple[int, int, int]:
        return self.x_train.shape[1:]  # (height, width, channels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


# TUTORIAL-DEMO: the demo's data set. Replace it with yours (AUTHORING.md, "Your data").
def digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's 1,797 handwritten digits, 8x8 grey-scale: bundled, no download."""
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]  # one channel
    return images, bunch.target.astype(np.int64), tuple(str(n) for n in bunch.target_names)


DATASETS = {"digits": digits}  # the names `data.dataset` may take in configs/*.yaml


def load(cfg: DataConfig, seed: int) -> Split:
    """Load ``cfg.dataset`` and split it, stratified by class, the same way for the same seed."""
    if cfg.dataset not in DATASETS:
        raise ConfigError(f"data.dataset {cfg.dataset!r} is not one of {sorted(DATASETS)}.")
    images, labels, class_names = DATASETS[cfg.dataset]()
    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            images, labels, test_size=cfg.test_size, stratify=labels, random_state=seed
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
