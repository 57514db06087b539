"""The model: a small convolutional network, written in Keras (on TensorFlow)."""

from .config import ModelConfig
from .engine import keras  # the engine imports TensorFlow quietly (no start-up log noise)


# TUTORIAL-DEMO: the demo's network, sized for 8x8 digits. Replace it with your tutorial's model.
def build_model(
    cfg: ModelConfig, image_shape: tuple[int, int, int], num_classes: int
) -> keras.Model:
    """Convolutions (3x3, ReLU) -> 2x2 max-pooling -> dropout -> dense -> one logit per class."""
    layers = keras.layers
    convolutions = [
        layers.Conv2D(width, kernel_size=3, padding="same", activation="relu")
        for width in cfg.channels
    ]
    pool = 2 if min(image_shape[:2]) >= 2 else 1  # rows of tabular data are 1 pixel high
    return keras.Sequential(
        [
            keras.Input(shape=tuple(image_shape)),  # (height, width, channels)
            *convolutions,
            layers.MaxPooling2D(pool),
            layers.Flatten(),
            layers.Dropout(cfg.dropout),
            layers.Dense(cfg.hidden, activation="relu"),
            layers.Dropout(cfg.dropout),
            layers.Dense(num_classes),
        ],
        name="small_cnn",
    )
