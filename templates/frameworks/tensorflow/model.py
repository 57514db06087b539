"""The model: a small convolutional network, written in Keras (on TensorFlow)."""

from __future__ import annotations

from .config import ModelConfig
from .engine import keras  # the engine imports TensorFlow quietly (no start-up log noise)


def build_model(cfg: ModelConfig, image_shape: tuple[int, int], num_classes: int) -> keras.Model:
    """Convolutions (3x3, ReLU) -> 2x2 max-pooling -> dropout -> dense -> class logits."""
    layers = keras.layers
    convolutions = [
        layers.Conv2D(width, kernel_size=3, padding="same", activation="relu")
        for width in cfg.channels
    ]
    return keras.Sequential(
        [
            keras.Input(shape=tuple(image_shape)),
            layers.Reshape((*image_shape, 1)),  # one channel: (height, width, 1)
            *convolutions,
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(cfg.dropout),
            layers.Dense(cfg.hidden, activation="relu"),
            layers.Dropout(cfg.dropout),
            layers.Dense(num_classes),
        ],
        name="digit_cnn",
    )
