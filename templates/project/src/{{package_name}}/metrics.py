"""Scores of predicted class probabilities, by scikit-learn (the same for every framework)."""

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, log loss and confusion matrix of probabilities (n, classes) for labels (n,)."""
    classes = np.arange(probabilities.shape[1])
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "loss": float(log_loss(labels, probabilities, labels=classes)),
        "confusion_matrix": confusion_matrix(labels, predicted, labels=classes).tolist(),
    }
