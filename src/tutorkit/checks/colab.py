"""What a reader on Colab gets (TK112), from a Colab runtime's package list.

Colab publishes each runtime's ``pip freeze`` and Python version in the googlecolab/backend-info
repository (``pip-freeze.txt``, ``os-info.txt``). `tutorkit check --colab DIR` reads them from
DIR (a checkout of that repository, or the two files) and compares them with what the generated
notebook's install cell does there: ``pip install`` of the tutorial's package, which installs
pyproject.toml's dependencies (the template's unpinned, so Colab's own versions are kept; the
author's pinned, so they replace Colab's) and nothing of requirements.lock. A dependency's
environment marker is read as on Colab (Linux, x86-64, the runtime's Python), and Colab's
``tensorflow`` serves for ``tensorflow-cpu`` (one ``tensorflow`` module, two builds: the
TensorFlow starter's install cell installs tensorflow-cpu only where no TensorFlow is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from tutorkit.checks.dependencies import parse_requirement
from tutorkit.checks.facts import Facts
from tutorkit.checks.rule import Rule
from tutorkit.errors import TutorkitError
from tutorkit.untrusted import UntrustedInput, repo_file

FREEZE = "pip-freeze.txt"
OS_INFO = "os-info.txt"
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
WHEEL_URL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*) @ \S*/[^/-]+-([^-/]+)-[^/]*\.whl$")
PYTHON = re.compile(r"^Python (\d+\.\d+\.\d+)\s*$", re.MULTILINE)
LOCK_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
# A dependency that Colab's own distribution of another name serves (the same import package).
SERVED_BY = {"tensorflow-cpu": "tensorflow"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class ColabRuntime:
    """One Colab runtime: its Python and the version of each installed distribution."""

    python: str
    packages: dict[str, str]

    def applies(self, line: str) -> bool:
        """Whether a requirement's environment marker holds on this runtime (Linux, x86-64)."""
        try:
            marker = Requirement(line).marker
        except InvalidRequirement:
            return True
        python = ".".join(self.python.split(".")[:2])
        return marker is None or marker.evaluate(
            {
                "sys_platform": "linux",
                "platform_system": "Linux",
                "platform_machine": "x86_64",
                "os_name": "posix",
                "python_version": python,
                "python_full_version": self.python,
                "implementation_name": "cpython",
                "platform_python_implementation": "CPython",
            }
        )


def freeze_versions(text: str) -> dict[str, str]:
    """``pip freeze`` lines -> name: version (``torch @ …/torch-2.11.0%2Bcpu-….whl`` too)."""
    found = {}
    for line in text.splitlines():
        match = PINNED.match(line.strip()) or WHEEL_URL.match(line.strip())
        if match:
            found[_normalized(match[1])] = unquote(match[2])
    return found


def load_runtime(folder: Path) -> ColabRuntime:
    """The runtime that backend-info's ``pip-freeze.txt`` and ``os-info.txt`` in ``folder`` list."""
    try:
        freeze = repo_file(folder, folder / FREEZE).decode("utf-8", errors="replace")
        info = repo_file(folder, folder / OS_INFO).decode("utf-8", errors="replace")
    except (UntrustedInput, OSError):
        raise TutorkitError(
            f"{folder} does not hold Colab's {FREEZE} and {OS_INFO}: give a checkout of "
            "googlecolab/backend-info (git clone https://github.com/googlecolab/backend-info)."
        ) from None
    python = PYTHON.search(info)
    packages = freeze_versions(freeze)
    if not python or not packages:
        raise TutorkitError(f"{folder}'s {OS_INFO} names no Python or its {FREEZE} no package.")
    return ColabRuntime(python[1], packages)


class ColabInstalls(Rule):
    """On the Colab runtime given, the install cell works and changes only what it must."""

    id = "TK112"
    severity = "warn"  # differences from CI are facts to know; a Python Colab lacks fails
    layouts = ("starter",)  # the starter's install cell: pip install of the package
    fix = (
        "Make the notebook's install cell the minimal one the rule prints (pinning what Colab "
        "lacks at the lock's versions), or pin in pyproject.toml only what must differ."
    )

    def __init__(self, runtime: ColabRuntime):
        self.runtime = runtime

    def problems(self, facts: Facts) -> list[str]:
        project = facts.toml("pyproject.toml").get("project", {})
        locked = {}
        if facts.is_file("requirements.lock"):
            text = facts.text("requirements.lock")
            locked = {_normalized(n): v for n, v in LOCK_PIN.findall(text)}
        self.severity = "warn"
        found = self._python(str(project.get("requires-python") or ""))
        lines = [str(line) for line in project.get("dependencies", [])]
        requirements = [parse_requirement(line) for line in lines if self.runtime.applies(line)]
        missing: list[str] = []
        for name, pin in filter(None, requirements):
            found += self._dependency(name, pin, locked, missing)
        cell = " ".join(f'"{name}"' for name in missing)
        found.append(f"the minimal install cell: %pip install --quiet <this repo> {cell}".strip())
        return found

    def _python(self, requires: str) -> list[str]:
        try:
            fits = not requires or self.runtime.python in SpecifierSet(requires)
        except InvalidSpecifier:
            fits = False
        if fits:
            return []
        self.severity = "fail"
        return [
            f"cannot install on Colab's Python {self.runtime.python}: pyproject.toml requires "
            f"Python {requires}"
        ]

    def _dependency(self, name: str, pin: str, locked: dict, missing: list[str]) -> list[str]:
        """One dependency of the install cell against Colab; ``missing`` gets its pin if needed."""
        lock = locked.get(name, "")
        if SERVED_BY.get(name) in self.runtime.packages:
            return self._served(name, pin or lock)
        colab = self.runtime.packages.get(name)
        if colab is None:
            return self._absent(name, pin or "", lock, missing)
        if pin and pin != colab:
            missing.append(f"{name}=={pin}")
            return [f"the install cell replaces Colab's {name} {colab} with {pin}"]
        if lock and lock != colab:
            return [f"Colab keeps its {name} {colab} (CI tests the lock's {lock})"]
        return []

    def _served(self, name: str, tested: str) -> list[str]:
        """A dependency that Colab's distribution of another name serves: the cell keeps it."""
        served = SERVED_BY[name]
        colab = self.runtime.packages[served]
        if tested and tested != colab:
            return [f"Colab keeps its {served} {colab} for {name} (CI tests {tested})"]
        return []

    @staticmethod
    def _absent(name: str, pin: str, lock: str, missing: list[str]) -> list[str]:
        """A dependency Colab lacks: the cell installs it, at the lock's version if it can."""
        missing.append(f"{name}=={pin or lock}" if pin or lock else name)
        what = pin or "its newest release" + (f", not the lock's {lock}" if lock else "")
        return [f"{name} is not on Colab: the install cell installs {what}"]
