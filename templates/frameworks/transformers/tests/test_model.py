"""The model loads with ``from_pretrained`` from a folder and from the Hub's cache; it learns."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from {{ package_name }} import data, engine, model
from {{ package_name }}.config import ConfigError, ModelConfig, load_config

CFG = load_config("default")
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A checkpoint folder: the configured model (the demo's tiny-bert, or yours), saved."""
    saved = tmp_path_factory.mktemp("checkpoint")
    model.load_tokenizer(CFG.model).save_pretrained(saved)
    model.build_model(CFG.model, ("a", "b")).save_pretrained(saved)
    return saved


@pytest.mark.parametrize("num_classes", [2, 5])
def test_model_predicts_a_probability_per_class(folder, num_classes):
    device = engine.setup(seed=0, threads=1, device="cpu")
    cfg = ModelConfig(checkpoint=str(folder))
    names = tuple(f"class {n}" for n in range(num_classes))
    tokenizer, classifier = model.load_tokenizer(cfg), model.build_model(cfg, names)
    texts = ["A short text.", "Another, somewhat longer text " * 20, "x"]
    probabilities = engine.predict(classifier, tokenizer, texts, device, max_length=16)
    assert probabilities.shape == (3, num_classes)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.config.id2label == dict(enumerate(names))


def test_hub_path_prefetches_then_trains_offline_from_the_cache(folder, tmp_path):
    """A Hub name pinned by revision, as CI runs it: ``--prefetch``, then training with
    HF_HUB_OFFLINE=1. The test lays out Hugging Face's cache (``snapshots/<revision>/``) with a
    saved model, so the real download-or-cache code of ``from_pretrained`` runs, offline."""
    cache = tmp_path / "hub"
    shutil.copytree(folder, cache / "models--tutorial--tiny-model" / "snapshots" / REVISION)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    pin = ["--set", "model.checkpoint=tutorial/tiny-model", "--set", f"model.revision={REVISION}"]
    prefetch = [sys.executable, "-m", model.__name__, "--prefetch", "--config", "smoke"]
    done = subprocess.run(prefetch + pin, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert REVISION in done.stdout
    train = [sys.executable, "-m", f"{model.__package__}.train", "--config", "smoke", "--quiet"]
    train += ["--runs-dir", str(tmp_path / "runs")]
    done = subprocess.run(train + pin, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert f"revision: {REVISION}" in (run / "config.yaml").read_text()


def test_a_hub_model_without_a_revision_is_refused():
    with pytest.raises(ConfigError, match="pin it with model.revision"):
        model.build_model(ModelConfig(checkpoint="tutorial/not-pinned"), ("a", "b"))


def test_model_learns_a_small_training_set():
    device = engine.setup(seed=0, threads=1, device="cpu")
    cfg = load_config("default", ["train.epochs=15", "train.batch_size=8", "data.subset=64"])
    split = data.load(cfg.data, seed=0)
    tokenizer = model.load_tokenizer(cfg.model)
    classifier = model.build_model(cfg.model, split.class_names)
    history = engine.fit(classifier, tokenizer, split, cfg, device, verbose=False)
    assert len(history) == 15
    assert history[-1]["loss"] < history[0]["loss"] / 2


def test_auto_device_is_one_that_exists():
    device = engine.setup(seed=0, threads=1, device="auto")
    assert device.type in {"cuda", "mps", "cpu"}


def test_a_missing_gpu_is_one_sentence():
    if engine.setup(seed=0, threads=1, device="auto").type != "cpu":
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="'cuda' is not available"):
        engine.setup(seed=0, threads=1, device="cuda")
