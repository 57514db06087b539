"""What must hold for any data set, the demo's or yours (no facts about the demo's data)."""

import numpy as np
import pytest

from {{ package_name }} import data
from {{ package_name }}.config import DataConfig, load_config

CFG = load_config("default").data  # the data set of the published tutorial


@pytest.fixture(scope="module")
def split():
    return data.load(CFG, seed=0)


def test_texts_and_labels_agree(split):
    for texts, labels in (
        (split.x_train, split.y_train),
        (split.x_val, split.y_val),
        (split.x_test, split.y_test),
    ):
        assert len(texts) == len(labels) > 0
        assert all(isinstance(text, str) and text.strip() for text in texts)
        assert labels.dtype == np.int64


def test_classes_cover_the_labels(split):
    labels = np.concatenate([split.y_train, split.y_val, split.y_test])
    assert labels.min() >= 0 and labels.max() < split.num_classes
    assert set(split.y_train) == set(range(split.num_classes)), "every class is trained on"


def test_splits_are_disjoint_and_sized_as_configured(split):
    train = set(split.x_train)
    assert not train & set(split.x_val), "a validation text is also a training text"
    assert not train & set(split.x_test), "a test text is also a training text"
    total = sum(split.sizes().values())
    assert abs(split.sizes()["test"] / total - CFG.test_size) < 0.02
    assert abs(split.sizes()["val"] / total - CFG.val_size) < 0.02


def test_same_seed_same_split_other_seed_other_split(split):
    again, other = data.load(CFG, seed=0), data.load(CFG, seed=1)
    assert split.x_train == again.x_train
    assert np.array_equal(split.y_test, again.y_test)
    assert split.x_train != other.x_train


def test_subset_keeps_every_class(split):
    size = 3 * split.num_classes
    subset = data.load(DataConfig(dataset=CFG.dataset, subset=size), seed=0)
    assert len(subset.y_train) == size
    assert set(subset.y_train) == set(range(split.num_classes))
