"""TensorFlow/Keras specifics: the device, seeding and determinism, compile and fit, prediction."""

import os
import warnings
{%- if tracking == "mlflow" %}
from pathlib import Path
{%- endif %}

# Before the first TensorFlow import: keep its C++ start-up messages out of the
# notebook and the terminal (errors still surface as Python exceptions). TensorFlow
# 2.21 announces its oneDNN kernels on every import whatever the log level; this
# small network trains as fast without them. Set either variable to change that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .config import ConfigError, TrainConfig  # noqa: E402
from .data import Split  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"This tutorial needs Keras on TensorFlow, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}: unset KERAS_BACKEND or set it to 'tensorflow'."
    )


def pick_device(name: str) -> str:
    """``auto`` picks a GPU if TensorFlow sees one (CUDA, or Apple's with tensorflow-metal)."""
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if name in ("cuda", "mps") and not has_gpu:
        raise ConfigError(f"device {name!r} is not available to TensorFlow here: use auto or cpu.")
    return "/GPU:0" if has_gpu and name != "cpu" else "/CPU:0"


def setup(seed: int, threads: int, device: str) -> str:
    """Pick the device, seed every generator and ask for deterministic kernels.

    TensorFlow fixes its thread pools when it first runs an operation; calling this
    again in the same process (a notebook, a test session) keeps the first count.
    """
    keras.backend.clear_session()  # fresh layer names and seed state for every run
    keras.utils.set_random_seed(seed)  # Python's, NumPy's and TensorFlow's generators
    tf.config.experimental.enable_op_determinism()  # on the CPU and on GPUs
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already running with another count
        warnings.warn(
            f"TensorFlow already runs in this process: threads={threads} takes effect "
            "after a restart (of the kernel).",
            stacklevel=2,
        )
    return pick_device(device)


def fit(
    model: keras.Model, split: Split, cfg: TrainConfig, device: str, verbose: bool = True
) -> list[dict]:
    """Train ``model`` with AdamW for ``cfg.epochs`` epochs; one row of scores per epoch."""
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=cfg.lr, weight_decay=cfg.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    with tf.device(device):
        result = model.fit(
            split.x_train,
            split.y_train,
            batch_size=cfg.batch_size,
            epochs=cfg.epochs,
            validation_data=(split.x_val, split.y_val),
            verbose=2 if verbose else 0,  # one line per epoch
        )
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    return [
        {"epoch": epoch + 1, **{key: float(result.history[key][epoch]) for key in keys}}
        for epoch in range(cfg.epochs)
    ]


def predict(model: keras.Model, images: np.ndarray, device: str) -> np.ndarray:
    """Class probabilities, shape (n, classes)."""
    with tf.device(device):
        logits = model.predict(images, batch_size=512, verbose=0)
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))


def count_parameters(model: keras.Model) -> int:
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def describe(model: keras.Model) -> str:
    """One line per layer: name, type, output shape and parameter count."""
    rows = [(f"{model.name} ({type(model).__name__})", "output shape", "parameters")]
    for layer in model.layers:
        name = f"  {layer.name} ({type(layer).__name__})"
        rows.append((name, str(layer.output.shape), f"{layer.count_params():,}"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    return "\n".join(lines) + f"\ntrainable parameters: {count_parameters(model):,}"
{%- if tracking == "mlflow" %}


def save_model(model: keras.Model, folder: Path) -> None:
    """The trained model, for MLflow (load with ``keras.models.load_model(...)``)."""
    model.save(folder / "model.keras")
{%- endif %}


def versions() -> dict[str, str]:
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_threads": str(tf.config.threading.get_intra_op_parallelism_threads()),
    }
