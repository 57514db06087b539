"""The model: a pretrained transformer and its tokenizer, loaded with ``from_pretrained``.

``model.checkpoint`` in configs/default.yaml names what is loaded: a model on the Hugging Face
Hub ("distilbert/distilbert-base-uncased", pinned by ``model.revision``), a local folder, or the
demo's ``tiny-bert``: a tiny BERT built here from a config, with a tokenizer trained in a second
on the demo sentences, saved to a folder and loaded back through the same ``from_pretrained``.
Download a pinned Hub model once, into Hugging Face's cache (CI does the same):

    python -m {{ package_name }}.model --prefetch
"""

import argparse
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

# Transformers draws no progress bars here (a line per epoch instead), but in a notebook without
# ipywidgets tqdm warns on import that it could not draw them: nothing to act on.
warnings.filterwarnings("ignore", message="IProgress not found")

import torch  # noqa: E402
from huggingface_hub import snapshot_download  # noqa: E402
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    PreTrainedTokenizerFast,
)

from .config import ConfigError, ModelConfig, config_path, load_config  # noqa: E402
from .data import sentences  # noqa: E402

# Where tiny-bert is made: $TUTORIAL_CACHE, else ~/.cache/<package>.
CACHE = Path(os.environ.get("TUTORIAL_CACHE") or Path.home() / ".cache" / __package__)
TINY = "tiny-bert"  # TUTORIAL-DEMO: the demo's checkpoint; name yours in configs/default.yaml
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def checkpoint_path(cfg: ModelConfig) -> str:
    """What ``from_pretrained`` loads: a folder here, or a Hub model pinned by revision."""
    if cfg.checkpoint == TINY:
        return str(tiny_checkpoint(CACHE / TINY))
    if not Path(cfg.checkpoint).is_dir() and cfg.revision is None:
        raise ConfigError(
            f"model.checkpoint {cfg.checkpoint!r} is not a folder here: if it is a Hub model, "
            "pin it with model.revision (the commit hash on its Hub page, 'Files and versions')."
        )
    return cfg.checkpoint


def load_tokenizer(cfg: ModelConfig):
    return AutoTokenizer.from_pretrained(checkpoint_path(cfg), revision=cfg.revision)


def build_model(cfg: ModelConfig, class_names: tuple[str, ...]):
    """The pretrained model with a classification head of one output per class (a new head
    when the checkpoint has none, or one of another size: fine-tuning trains it)."""
    return AutoModelForSequenceClassification.from_pretrained(
        checkpoint_path(cfg),
        revision=cfg.revision,
        id2label=dict(enumerate(class_names)),
        label2id={name: index for index, name in enumerate(class_names)},
        ignore_mismatched_sizes=True,
    )


# TUTORIAL-DEMO: the demo's stand-in for a pretrained model, so the repo runs offline.
def tiny_checkpoint(folder: Path) -> Path:
    """The tiny BERT in ``folder``, made there the first time (a second, no download)."""
    if not (folder / "config.json").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent))  # whole, or not there at all
        save_tiny_model(staging, sentences()[0])
        if folder.exists():  # made meanwhile by another process
            shutil.rmtree(staging)
        else:
            staging.replace(folder)
    return folder


def save_tiny_model(folder: Path, texts: list[str]) -> None:
    """Train a word-level tokenizer on ``texts``; build a 2-layer BERT from a config; save both."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    ).save_pretrained(folder)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)  # the same weights every time
    AutoModelForSequenceClassification.from_config(config).save_pretrained(folder)


def prefetch(cfg: ModelConfig) -> str:
    """Download the pinned Hub model into Hugging Face's cache (once); where it is."""
    if cfg.checkpoint == TINY or Path(cfg.checkpoint).is_dir():
        return checkpoint_path(cfg)
    checkpoint_path(cfg)  # refuses a Hub model without a revision
    return snapshot_download(cfg.checkpoint, revision=cfg.revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.model")
    parser.add_argument("--prefetch", action="store_true", help="download the model once")
    parser.add_argument("--config", help="a profile or a YAML file (default: every configs/*.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if not args.prefetch:
        parser.error("nothing to do: pass --prefetch")
    try:
        every_config = sorted(config_path("default").parent.glob("*.yaml"))
        for profile in [args.config] if args.config else every_config:
            cfg = load_config(profile, args.overrides)
            print(f"{cfg.name}: {cfg.model.checkpoint} ready in {prefetch(cfg.model)}")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
