"""Hyperparameters: YAML files in ``configs/`` loaded into typed, frozen dataclasses.

One source of truth for the notebook and the train script::

    cfg = load_config("default")                      # configs/default.yaml
    cfg = load_config("smoke")                        # configs/smoke.yaml (extends default)
    cfg = load_config("configs/default.yaml", overrides=["train.lr=0.01"])

A config file may start with ``extends: other.yaml``; its keys are merged over the
other file's. Unknown keys and values of the wrong type are errors, not surprises.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = "configs"


class ConfigError(ValueError):
    """A config file or override that cannot be used, with a message that says why."""


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "digits"
    test_size: float = 0.2
    val_size: float = 0.1
    subset: int | None = None  # keep only this many training examples (smoke runs)


@dataclass(frozen=True)
class ModelConfig:
    channels: tuple[int, ...] = (16, 32)
    hidden: int = 64
    dropout: float = 0.1


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.001
    weight_decay: float = 0.0


@dataclass(frozen=True)
class Config:
    name: str = "default"
    seed: int = 42
    threads: int = 1  # CPU threads: results repeat bit for bit only with the same count
    runs_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), ready for YAML or JSON."""
        return _plain(dataclasses.asdict(self))


def find_config_dir(start: Path | None = None) -> Path:
    """The nearest ``configs/`` folder at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_DIR).is_dir():
            return folder / CONFIG_DIR
    raise ConfigError(
        f"No {CONFIG_DIR}/ folder found at or above {here}: run from inside the tutorial repo."
    )


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A profile name (``smoke``) or a path (``configs/smoke.yaml``) to an existing file."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"}:
        if candidate.is_file():
            return candidate.resolve()
        raise ConfigError(f"Config file {candidate} does not exist.")
    path = find_config_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"No config profile {name_or_path!r}: known profiles are {known}.")
    return path


def load_config(
    name_or_path: str | Path = "default", overrides: typing.Iterable[str] = ()
) -> Config:
    """Load a profile or YAML file, apply ``key.path=value`` overrides, and type-check it."""
    path = resolve_config_path(name_or_path)
    raw = _read_with_extends(path, seen=())
    raw.setdefault("name", path.stem)
    for override in overrides:
        _apply_override(raw, override)
    return _build(Config, raw, prefix="")


def _read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise ConfigError(f"Config files extend each other in a loop: {path}.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Config file {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must hold a mapping of keys to values.")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = _read_with_extends((path.parent / parent).resolve(), seen=(*seen, path))
    return _merge(base, data)


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, text = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"Override {override!r} is not of the form key.path=value.")
    *parents, leaf = key.strip().split(".")
    target = raw
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(f"Override {override!r}: {part!r} is not a section.")
    try:
        target[leaf] = yaml.safe_load(text)
    except yaml.YAMLError:
        target[leaf] = text


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"Config section {prefix.rstrip('.') or 'root'} must be a mapping.")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"Unknown config key {prefix}{unknown[0]}: known keys here are {sorted(known)}."
        )
    values = {name: _coerce(hints[name], value, f"{prefix}{name}") for name, value in raw.items()}
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (hint,) = [option for option in options if option is not type(None)]
        origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"Config key {key} must be a list, not {value!r}.")
        (item,) = {arg for arg in typing.get_args(hint) if arg is not Ellipsis}
        return tuple(_coerce(item, element, key) for element in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"Config key {key} must be of type {hint.__name__}, not {value!r}.")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
