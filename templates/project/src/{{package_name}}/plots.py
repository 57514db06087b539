"""Pictures for the notebook: samples of the data, learning curves, the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np


def show_samples(
    images: np.ndarray, labels: np.ndarray, title: str = "Training examples", count: int = 24
):
    """A grid of the first ``count`` images with their labels."""
    columns = 8
    rows = -(-min(count, len(images)) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3))
    for index, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if index < min(count, len(images)):
            ax.imshow(images[index], cmap="gray_r")
            ax.set_title(str(labels[index]), fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history: Sequence[dict[str, Any]]):
    """Loss and accuracy per epoch, training next to validation."""
    epochs = [row["epoch"] for row in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.plot(epochs, [row[key] for row in history], marker="o", label="training")
        ax.plot(epochs, [row[f"val_{key}"] for row in history], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(confusion: Sequence[Sequence[int]], class_names: Sequence[str]):
    """Rows are true classes, columns predicted ones; the diagonal is what went right."""
    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    image = ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2
    for (row, column), value in np.ndenumerate(matrix):
        color = "white" if value > threshold else "black"
        ax.text(column, row, str(value), ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title("Confusion matrix (test set)")
    fig.tight_layout()
    return fig


def show_mistakes(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, count=16):
    """The misclassified test images, titled 'true -> predicted (confidence)'."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)[:count]
    if len(wrong) == 0:
        print("No mistakes on the test set.")
        return None
    titles = [f"{labels[i]}->{predicted[i]} ({probabilities[i, predicted[i]]:.0%})" for i in wrong]
    return show_samples(images[wrong], np.array(titles), title="Mistakes", count=count)
