"""Framework-free evaluation: accuracy, log loss and the confusion matrix from probabilities."""

from __future__ import annotations

import numpy as np


def evaluate(probabilities: np.ndarray, labels: np.ndarray, num_classes: int) -> dict:
    """Scores of predicted class probabilities (n, classes) against integer labels (n,)."""
    predicted = probabilities.argmax(axis=1)
    picked = probabilities[np.arange(len(labels)), labels]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return {
        "accuracy": float((predicted == labels).mean()),
        "loss": float(-np.log(np.clip(picked, 1e-12, 1.0)).mean()),
        "confusion_matrix": confusion.tolist(),
    }
