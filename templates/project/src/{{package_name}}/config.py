"""The hyperparameters: a YAML file in ``configs/`` read into plain dataclasses.

    cfg = load_config("smoke")                               # configs/smoke.yaml
    cfg = load_config("default", ["train.lr=0.01"])          # one value changed for this run
    cfg = load_config()                                      # $TUTORIAL_PROFILE, else "default"

A config file may start with ``extends: other.yaml``: its keys are merged over the other file's.
A wrong key, type or value raises ConfigError with one sentence, before anything trains.
"""

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROFILE_ENV = "TUTORIAL_PROFILE"  # the profile used when none is named
DEVICES = ("auto", "cuda", "mps", "cpu")


class ConfigError(ValueError):
    """A config file, override or value that cannot be used; the message says why."""


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "digits"
    test_size: float = 0.2  # fraction held out for the final test
    val_size: float = 0.1  # fraction used to watch training
    subset: int | None = None  # keep only this many training examples (None: all)

    def __post_init__(self):
        for key in ("test_size", "val_size"):
            value = getattr(self, key)
            require(0 < value < 1, f"data.{key} must be between 0 and 1, not {value}.")
        total = self.test_size + self.val_size
        require(total < 1, f"data.test_size + data.val_size must be below 1, not {total:g}.")
        require(self.subset is None or self.subset >= 1, "data.subset must be at least 1 or null.")


@dataclass(frozen=True)
class ModelConfig:
    channels: tuple[int, ...] = (16, 32)  # output channels of each 3x3 convolution
    hidden: int = 64  # width of the dense layer
    dropout: float = 0.1

    def __post_init__(self):
        require(len(self.channels) > 0, "model.channels must list at least one convolution.")
        require(min(self.channels) >= 1, "model.channels must all be at least 1.")
        require(self.hidden >= 1, f"model.hidden must be at least 1, not {self.hidden}.")
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), not {self.dropout}.")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.001
    weight_decay: float = 0.0

    def __post_init__(self):
        require(self.epochs >= 1, f"train.epochs must be at least 1, not {self.epochs}.")
        size = self.batch_size
        require(size >= 1, f"train.batch_size must be at least 1, not {size}.")
        require(self.lr > 0, f"train.lr must be above 0, not {self.lr}.")
        decay = self.weight_decay
        require(decay >= 0, f"train.weight_decay must be 0 or more, not {decay}.")


@dataclass(frozen=True)
class Config:
    name: str = "default"
    seed: int = 42
    threads: int = 1  # CPU threads: results repeat bit for bit only with the same count
    device: str = "auto"  # auto picks CUDA, then Apple MPS, then the CPU
    runs_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        require(self.seed >= 0, f"seed must be 0 or more, not {self.seed}.")
        require(self.threads >= 1, f"threads must be at least 1, not {self.threads}.")
        require(self.device in DEVICES, f"device must be one of {DEVICES}, not {self.device!r}.")

    def to_dict(self) -> dict:
        """Plain data (lists, not tuples), ready for YAML or JSON."""
        plain = dataclasses.asdict(self)
        plain["model"]["channels"] = list(self.model.channels)
        return plain


def load_config(profile: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Read a profile (``smoke``) or a YAML path, apply ``key.path=value`` overrides, check it."""
    path = config_path(profile or os.environ.get(PROFILE_ENV) or "default")
    raw = {"name": path.stem, **read_yaml(path)}
    for override in overrides:
        set_value(raw, override)
    return build(Config, raw, prefix="")


def config_path(profile: str | Path) -> Path:
    """``smoke`` -> the nearest ``configs/smoke.yaml`` at or above the working directory."""
    if Path(profile).suffix in (".yaml", ".yml"):
        path = Path(profile)
    else:
        here = Path.cwd().resolve()
        folders = [folder / "configs" for folder in (here, *here.parents)]
        folder = next((folder for folder in folders if folder.is_dir()), None)
        require(folder is not None, f"No configs/ folder at or above {here}: run inside the repo.")
        path = folder / f"{profile}.yaml"
    require(path.is_file(), f"No config {profile!r}: {path} does not exist.")
    return path


def read_yaml(path: Path) -> dict:
    """The file's keys, merged over those of the file it ``extends:`` (if any)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from None
    require(isinstance(data, dict), f"{path} must hold keys and values.")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = path.parent / str(parent)
    require(base.is_file(), f"{path} extends {parent}, which does not exist.")
    return merge(read_yaml(base), data)


def merge(base: dict, update: dict) -> dict:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = merge(merged[key], value)
        merged[key] = value
    return merged


def set_value(raw: dict, override: str) -> None:
    """Apply ``train.lr=0.01``; the value is read as YAML (a number, a list, null...)."""
    key, sep, text = override.partition("=")
    require(bool(sep and key), f"Override {override!r} is not of the form key.path=value.")
    *sections, leaf = key.strip().split(".")
    for section in sections:
        raw = raw.setdefault(section, {})
        require(isinstance(raw, dict), f"Override {override!r}: {section} is not a section.")
    try:
        raw[leaf] = yaml.safe_load(text)
    except yaml.YAMLError:
        raw[leaf] = text


# What a YAML value may be for each annotation above (a float key also takes 1 for 1.0).
ACCEPTS = {
    str: (str,),
    int: (int,),
    float: (int, float),
    int | None: (int, type(None)),
}


def build(cls: type, raw: dict, prefix: str):
    """``cls(**raw)`` once every key is known and every value has the annotated type."""
    require(isinstance(raw, dict), f"{prefix.rstrip('.')} must be a section of keys and values.")
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = sorted(fields)
        raise ConfigError(f"Unknown config key {prefix}{unknown[0]}: known keys here are {known}.")
    values = {}
    for key, value in raw.items():
        kind = fields[key]
        if dataclasses.is_dataclass(kind):  # a section: data, model or train
            values[key] = build(kind, value, f"{prefix}{key}.")
        else:
            values[key] = typed(value, kind, prefix + key)
    return cls(**values)


def typed(value, kind, key: str):
    if kind == tuple[int, ...]:
        ok = isinstance(value, list) and all(type(item) is int for item in value)
        require(ok, f"Config key {key} must be a list of integers, not {value!r}.")
        return tuple(value)
    ok = isinstance(value, ACCEPTS[kind]) and not isinstance(value, bool)
    name = getattr(kind, "__name__", kind)
    require(ok, f"Config key {key} must be of type {name}, not {value!r}.")
    return float(value) if kind is float else value
