"""TensorFlow/Keras specifics: seeding and determinism, one training epoch, prediction, versions."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

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

from .config import TrainConfig  # noqa: E402

FRAMEWORK = "TensorFlow/Keras"

EpochFunction = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"This tutorial needs Keras on TensorFlow, but KERAS_BACKEND is "
        f"{keras.backend.backend()!r}: unset KERAS_BACKEND or set it to 'tensorflow'."
    )


def setup(seed: int, threads: int) -> None:
    """Seed every generator and ask for deterministic kernels, on a fixed thread count.

    TensorFlow fixes its thread pools when it first runs an operation; calling this
    again in the same process (a notebook, a test session) keeps the first count.
    """
    keras.backend.clear_session()  # fresh layer names and seed state for every run
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already running with another count
        running = threading.get_intra_op_parallelism_threads() or "its default number of"
        warnings.warn(
            f"TensorFlow already runs on {running} thread(s) in this process: "
            f"threads={threads} takes effect after a restart (of the kernel).",
            stacklevel=2,
        )


def prepare(model: keras.Model, cfg: TrainConfig) -> EpochFunction:
    """The optimizer and a compiled (graph) function that trains ``model`` for one epoch."""
    optimizer = keras.optimizers.AdamW(
        learning_rate=cfg.lr, weight_decay=cfg.weight_decay, epsilon=1e-8
    )
    optimizer.build(model.trainable_variables)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(reduce_retracing=True)
    def train_epoch_graph(images, labels, batch_size):
        total_loss, correct = tf.constant(0.0), tf.constant(0, tf.int64)
        for start in tf.range(0, tf.shape(labels)[0], batch_size):
            batch, target = images[start : start + batch_size], labels[start : start + batch_size]
            with tf.GradientTape() as tape:
                logits = model(batch, training=True)
                loss = cross_entropy(target, logits)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            total_loss += loss * tf.cast(tf.shape(target)[0], tf.float32)
            correct += tf.reduce_sum(tf.cast(tf.argmax(logits, axis=1) == target, tf.int64))
        return total_loss, correct

    return train_epoch_graph


def train_epoch(
    model: keras.Model,
    epoch: EpochFunction,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
) -> tuple[float, float]:
    """One pass over ``x, y`` in the given order; returns the mean loss and the accuracy.

    The whole epoch runs as one TensorFlow graph (no Python between the batches).
    """
    total_loss, correct = epoch(tf.constant(x), tf.constant(y), tf.constant(batch_size))
    return float(total_loss) / len(y), int(correct) / len(y)


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities, shape (n, classes)."""
    parts = [
        keras.ops.softmax(model(x[start : start + batch_size], training=False), axis=-1)
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate([keras.ops.convert_to_numpy(part) for part in parts])


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


def versions() -> dict[str, str]:
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_threads": str(tf.config.threading.get_intra_op_parallelism_threads()),
    }
