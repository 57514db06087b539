"""PyTorch and Transformers specifics: the device, seeding, the Trainer, prediction."""

import tempfile
import warnings
{%- if tracking == "mlflow" %}
from pathlib import Path
{%- endif %}

# Transformers draws no progress bars here (a line per epoch instead), but in a notebook without
# ipywidgets tqdm warns on import that it could not draw them: nothing to act on.
warnings.filterwarnings("ignore", message="IProgress not found")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from .config import Config, ConfigError  # noqa: E402
from .data import Split  # noqa: E402
from .metrics import evaluate  # noqa: E402

transformers.logging.disable_progress_bar()  # a line per epoch instead (PrintEpochs)


{% include "templates/frameworks/pytorch/pick_device.py" %}

def setup(seed: int, threads: int, device: str) -> torch.device:
    """Pick the device, seed every generator and ask for deterministic kernels."""
    device = pick_device(device)
    transformers.enable_full_determinism(seed)  # Python, NumPy, PyTorch; deterministic kernels
    torch.set_num_threads(threads)
    return device


def encode(tokenizer, texts: list[str], labels: np.ndarray, max_length: int) -> list[dict]:
    """One example per text: its token ids (truncated to ``max_length``) and its label."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    return [
        {"input_ids": ids, "attention_mask": mask, "labels": int(label)}
        for ids, mask, label in zip(
            encoded["input_ids"], encoded["attention_mask"], labels, strict=True
        )
    ]


def accuracy(prediction) -> dict:
    """The Trainer's ``compute_metrics``: the accuracy of the validation set's logits."""
    probabilities = torch.from_numpy(prediction.predictions).softmax(dim=1).numpy()
    scores = evaluate(probabilities, prediction.label_ids)
    return {"accuracy": scores["accuracy"]}


class PrintEpochs(TrainerCallback):
    """One line per epoch, after the validation set is scored."""

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        loss = next(row["loss"] for row in reversed(state.log_history) if "loss" in row)
        print(
            f"Epoch {round(state.epoch)}/{round(args.num_train_epochs)}  loss {loss:.4f}  "
            f"val_loss {metrics['eval_loss']:.4f}  val_accuracy {metrics['eval_accuracy']:.4f}"
        )


def fit(model, tokenizer, split: Split, cfg: Config, device: torch.device, verbose=True):
    """Fine-tune ``model`` with the Transformers Trainer; one row of scores per epoch."""
    max_length = cfg.model.max_length
    with tempfile.TemporaryDirectory() as scratch:  # the Trainer's output_dir: nothing is kept
        args = TrainingArguments(
            output_dir=scratch,
            num_train_epochs=cfg.train.epochs,
            per_device_train_batch_size=cfg.train.batch_size,
            per_device_eval_batch_size=cfg.train.batch_size,
            learning_rate=cfg.train.lr,
            weight_decay=cfg.train.weight_decay,
            eval_strategy="epoch",
            logging_strategy="epoch",
            save_strategy="no",
            report_to="none",
            seed=cfg.seed,
            full_determinism=True,
            use_cpu=device.type == "cpu",
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=encode(tokenizer, split.x_train, split.y_train, max_length),
            eval_dataset=encode(tokenizer, split.x_val, split.y_val, max_length),
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=accuracy,
            callbacks=[PrintEpochs()] if verbose else [],
        )
        trainer.remove_callback(transformers.PrinterCallback)  # its raw dicts: PrintEpochs instead
        trainer.train()
    return epoch_history(trainer.state.log_history)


def epoch_history(log_history: list[dict]) -> list[dict]:
    """The Trainer's log, one row per epoch: training loss, validation loss and accuracy."""
    rows: dict[int, dict] = {}
    for entry in log_history:
        row = rows.setdefault(round(entry["epoch"]), {"epoch": round(entry["epoch"])})
        if "loss" in entry:
            row["loss"] = entry["loss"]
        if "eval_loss" in entry:
            row.update(val_loss=entry["eval_loss"], val_accuracy=entry["eval_accuracy"])
    return [row for row in rows.values() if "val_loss" in row]


@torch.no_grad()
def predict(model, tokenizer, texts: list[str], device: torch.device, max_length: int):
    """Class probabilities, shape (n, classes)."""
    model.to(device).eval()
    probabilities = []
    for start in range(0, len(texts), 256):
        batch = tokenizer(
            texts[start : start + 256],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)
        probabilities.append(model(**batch).logits.softmax(dim=1).cpu())
    return torch.cat(probabilities).numpy()


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model) -> str:
    return f"{model}\ntrainable parameters: {count_parameters(model):,}"
{%- if tracking == "mlflow" %}


def save_model(model, tokenizer, folder: Path) -> None:
    """The fine-tuned model and its tokenizer, for MLflow (load with ``from_pretrained``)."""
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
{%- endif %}


def versions() -> dict[str, str]:
    return {
        "torch": torch.__version__,
        "torch_threads": str(torch.get_num_threads()),
        "transformers": transformers.__version__,
    }
