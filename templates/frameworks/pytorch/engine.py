"""PyTorch specifics: the device, seeding and determinism, the training loop, prediction."""

import os
{%- if tracking == "mlflow" %}
from pathlib import Path
{%- endif %}

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .config import ConfigError, TrainConfig
from .data import Split
from .metrics import evaluate


{% include "templates/frameworks/pytorch/pick_device.py" %}

def setup(seed: int, threads: int, device: str) -> torch.device:
    """Pick the device, seed every generator and ask for deterministic kernels."""
    device = pick_device(device)
    if device.type == "cuda":
        # cuBLAS repeats its results only with a fixed workspace, set before its first use.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)  # the CPU's, CUDA's and MPS's generators
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    return device


def fit(
    model: nn.Module, split: Split, cfg: TrainConfig, device: torch.device, verbose: bool = True
) -> list[dict]:
    """Train ``model`` with AdamW for ``cfg.epochs`` epochs; one row of scores per epoch."""
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    train_set = TensorDataset(torch.from_numpy(split.x_train), torch.from_numpy(split.y_train))
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True)  # seeded by setup
    history = []
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        total_loss, correct = 0.0, 0
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
        val = evaluate(predict(model, split.x_val, device), split.y_val)
        scores = {
            "loss": total_loss / len(train_set),
            "accuracy": correct / len(train_set),
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
        }
        history.append({"epoch": epoch, **scores})
        if verbose:
            line = "  ".join(f"{key} {value:.4f}" for key, value in scores.items())
            print(f"Epoch {epoch}/{cfg.epochs}  {line}")
    return history


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, device: torch.device) -> np.ndarray:
    """Class probabilities, shape (n, classes)."""
    model.eval()
    batches = torch.from_numpy(images).split(512)
    return torch.cat([model(batch.to(device)).softmax(dim=1).cpu() for batch in batches]).numpy()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model: nn.Module) -> str:
    return f"{model}\ntrainable parameters: {count_parameters(model):,}"
{%- if tracking == "mlflow" %}


def save_model(model: nn.Module, folder: Path) -> None:
    """The trained weights, for MLflow (load with ``model.load_state_dict(torch.load(...))``)."""
    torch.save(model.state_dict(), folder / "model.pt")
{%- endif %}


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "torch_threads": str(torch.get_num_threads())}
