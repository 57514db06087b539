"""Pictures for the notebook: samples, learning curves, the confusion matrix, mistakes."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def show_samples(images: np.ndarray, titles: list[str], suptitle: str = "Training examples"):
    """A grid of images (n, height, width, channels), each with its title (at most 24)."""
    count, columns = min(len(images), 24), 8
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.4), squeeze=False)
    for index, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if index < count:
            image = images[index]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray_r")
            ax.set_title(titles[index], fontsize=9)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_history(history: list[dict]):
    """Loss and accuracy per epoch, training next to validation."""
    epochs = [row["epoch"] for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [row[key] for row in history], marker="o", label="training")
        ax.plot(epochs, [row[f"val_{key}"] for row in history], marker="o", label="validation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
        ax.set(xlabel="epoch", ylabel=key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(confusion: list[list[int]], class_names: tuple[str, ...]):
    """Rows are true classes, columns predicted ones; the diagonal is what went right."""
    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    image = ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test set)")
    for (row, column), value in np.ndenumerate(matrix):
        color = "white" if value > matrix.max() / 2 else "black"
        ax.text(column, row, str(value), ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def show_mistakes(images, labels, probabilities, class_names):
    """The misclassified images, titled "true -> predicted (the model's confidence)"."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    if len(wrong) == 0:
        print("No mistakes on the test set.")
        return None
    titles = [
        f"{class_names[labels[i]]}->{class_names[predicted[i]]} ({probabilities[i].max():.0%})"
        for i in wrong
    ]
    suptitle = "Mistakes: true class -> predicted class (confidence of the prediction)"
    return show_samples(images[wrong], titles, suptitle)
