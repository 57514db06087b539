"""PyTorch specifics: seeding and determinism, one training epoch, prediction, versions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig

FRAMEWORK = "PyTorch"


def setup(seed: int, threads: int) -> None:
    """Seed every generator and ask for deterministic kernels, on a fixed thread count."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def prepare(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def _images(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)  # (n, 1, height, width)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
) -> tuple[float, float]:
    """One pass over ``x, y`` in the given order; returns the mean loss and the accuracy."""
    model.train()
    images, labels = _images(x), torch.from_numpy(y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(labels), batch_size):
        batch, target = images[start : start + batch_size], labels[start : start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        logits = model(batch)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(target)
        correct += int((logits.argmax(dim=1) == target).sum())
    return total_loss / len(labels), correct / len(labels)


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities, shape (n, classes)."""
    model.eval()
    images = _images(x)
    parts = [
        torch.softmax(model(images[start : start + batch_size]), dim=1)
        for start in range(0, len(images), batch_size)
    ]
    return torch.cat(parts).numpy()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model: nn.Module) -> str:
    return f"{model}\ntrainable parameters: {count_parameters(model):,}"


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "torch_threads": str(torch.get_num_threads())}
