"""pyproject.toml, requirements.txt and environment.yml install the same things, at the same pins.

pyproject.toml is where a dependency is added (pinned there); requirements.txt and environment.yml
hold the template's pins. When they disagree, pip, conda, Binder and Colab install different code.
"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;]+))?")


def name_and_pin(line: str) -> tuple[str, str | None]:
    """``"Scikit_Learn==1.9.1; marker"`` -> ``("scikit-learn", "1.9.1")``."""
    match = REQUIREMENT.match(line.strip())
    assert match, f"cannot read the requirement {line!r}"
    return re.sub(r"[-_.]+", "-", match[1]).lower(), match[2]


def pins(lines: list[str]) -> dict[str, str]:
    """Name -> pinned version of each package line (not of options: -e, --extra-index-url)."""
    found = [name_and_pin(line) for line in lines if line.strip() and line.strip()[0] != "-"]
    return {name: pin for name, pin in found}


def requirement_lines() -> list[str]:
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    return [line.split(" #")[0].strip() for line in text.splitlines() if not line.startswith("#")]


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_requirements_pin_only_what_pyproject_names():
    named = {name_and_pin(line)[0] for line in project()["dependencies"]}
    named |= {name_and_pin(line)[0] for line in project()["optional-dependencies"]["dev"]}
    for name in pins(requirement_lines()):
        assert name in named, (
            f"requirements.txt pins {name}, which pyproject.toml does not list: add it, pinned, "
            "to [project] dependencies in pyproject.toml and remove it from requirements.txt."
        )


def test_every_dependency_is_pinned_once():
    pinned = pins(requirement_lines())
    for line in project()["dependencies"]:
        name, pin = name_and_pin(line)
        assert pin or name in pinned, (
            f"pyproject.toml lists {name} without a version: write it as {name}==VERSION."
        )
        assert not pin or pinned.get(name, pin) == pin, (
            f"{name} is pinned at {pin} in pyproject.toml and at {pinned[name]} in "
            "requirements.txt: keep one pin, in pyproject.toml."
        )


def test_environment_installs_what_requirements_install():
    conda, pip = [], []
    for item in environment()["dependencies"]:
        if isinstance(item, dict):
            pip.extend(item["pip"])
        else:
            conda.append(item)
    extra = [item for item in conda if not re.match(r"^(python|pip)\b", item)]
    assert not extra, (
        f"environment.yml installs {extra} from conda: add them to [project] dependencies in "
        "pyproject.toml instead, so pip and Colab get them too."
    )
    requirements = [line for line in requirement_lines() if line]
    assert [line.strip() for line in pip] == requirements, (
        "environment.yml's pip section differs from requirements.txt: make them the same "
        "lines (or take both from the template with copier update)."
    )


def test_python_version_agrees():
    (python,) = [item for item in environment()["dependencies"] if str(item).startswith("python=")]
    version = python.removeprefix("python=")
    assert project()["requires-python"] == f">={version}", "pyproject.toml's requires-python"
    runtime = ROOT / "runtime.txt"  # Binder's Python when there is no environment.yml
    assert not runtime.exists() or runtime.read_text().strip() == f"python-{version}", (
        f"runtime.txt names another Python than environment.yml: make it python-{version}."
    )


def locked_versions(lock: Path) -> dict[str, str]:
    """Name -> version (without a local label such as +cpu) of each package the lock pins."""
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if line[:1].isalnum()]
    return {name: pin.split("+")[0] for name, pin in map(name_and_pin, lines)}


def exact_pins() -> list[tuple[str, str | None]]:
    """(name, pin) of requirements.txt and pyproject.toml, but lines with a platform marker."""
    lines = requirement_lines() + project()["dependencies"]
    return [name_and_pin(line) for line in lines if line and line[0] != "-" and ";" not in line]


def test_the_lock_pins_what_requirements_and_pyproject_pin():
    """requirements.lock (every package, hashed) is the resolution of the pins: a pin changed or
    added without `tutorkit lock` leaves the lock behind."""
    lock = ROOT / "requirements.lock"
    if not lock.exists():
        pytest.skip("no requirements.lock yet: `tutorkit lock` writes it (AUTHORING.md)")
    locked = locked_versions(lock)
    for name, pin in exact_pins():
        assert pin is None or locked.get(name) == pin, (
            f"{name} is pinned at {pin}, and requirements.lock has {locked.get(name)}: "
            "run `tutorkit lock` and commit requirements.lock."
        )
