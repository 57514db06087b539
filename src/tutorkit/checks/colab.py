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

Any notebook, in either layout, whose cells install with pip (``%pip install ...``,
``!pip install ...``, ``!python -m pip install ...``) is judged too, per notebook: what its
install lines would replace of Colab's, what they add, what they change nothing of, and the
minimal install line that keeps the rest as Colab has it; the requirements files they name
(``-r``) are read from the repo and judged line by line. Whether a pinned release has a wheel
for Colab's Python is the package index's to say: the rule reads no index.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from tutorkit.checks.dependencies import parse_requirement, requirements_read
from tutorkit.checks.facts import Facts
from tutorkit.checks.rule import Rule
from tutorkit.errors import TutorkitError
from tutorkit.repos import code_cells
from tutorkit.untrusted import UntrustedInput, printable, repo_file

FREEZE = "pip-freeze.txt"
OS_INFO = "os-info.txt"
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
WHEEL_URL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*) @ \S*/[^/-]+-([^-/]+)-[^/]*\.whl$")
PYTHON = re.compile(r"^Python (\d+\.\d+\.\d+)\s*$", re.MULTILINE)
LOCK_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
# A dependency that Colab's own distribution of another name serves (the same import package).
SERVED_BY = {"tensorflow-cpu": "tensorflow"}
# A line of a code cell that installs with pip (IPython's %pip, or a shell escape).
PIP_INSTALL = re.compile(
    r"^\s*(?:%pip3?|!\s*pip3?|!\s*python3?\s+-m\s+pip|!\s*\{sys\.executable\}\s+-m\s+pip)"
    r"\s+install\s+(?P<args>.+)$"
)
# pip install options whose value is neither a requirement nor a requirements file (-r and -e:
# see _option).
VALUED = {"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links"}
VALUED |= {"-t", "--target", "--prefix", "--root"}


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
    layouts = ("starter", "infrastructure")  # the starter's package; any notebook's pip lines
    fix = (
        "Make each install cell the minimal one the rule prints (pinning what Colab lacks at the "
        "lock's versions), or pin in pyproject.toml only what must differ; a notebook's own "
        "pip lines: keep only what the minimal install line names."
    )

    def __init__(self, runtime: ColabRuntime):
        self.runtime = runtime

    def problems(self, facts: Facts) -> list[str]:
        self.severity = "warn"
        found = self._package(facts) if facts.layout == "starter" else []
        for notebook in facts.notebooks:
            found += notebook_installs(notebook, facts, self.runtime)
        return found

    def _package(self, facts: Facts) -> list[str]:
        """The starter's install cell: `pip install` of the package, with pyproject's list."""
        project = facts.toml("pyproject.toml").get("project", {})
        locked = {}
        if facts.is_file("requirements.lock"):
            text = facts.text("requirements.lock")
            locked = {_normalized(n): v for n, v in LOCK_PIN.findall(text)}
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


def install_lines(source: str) -> list[list[str]]:
    """The arguments of each pip install line of a code cell (a line shlex cannot split is
    left out: the cell's own syntax error is its run's to report)."""
    found = []
    for line in source.splitlines():
        match = PIP_INSTALL.match(line)
        if match:
            try:
                found.append(shlex.split(match["args"], comments=True))
            except ValueError:
                continue
    return found


def requirements_of(words: list[str]) -> tuple[list[str], list[str], bool]:
    """What an install line installs: the requirements it names (an editable's path or URL
    too; not other options or their values), the requirements files it names (``-r``), and
    whether it upgrades (-U)."""
    found: list[str] = []
    files: list[str] = []
    upgrade = False
    rest = iter(words)
    for word in rest:
        if word in ("-U", "--upgrade"):
            upgrade = True
        elif word.startswith("-"):
            _option(word, rest, found, files)
        else:
            found.append(word)
    return [w for w in found if w], [f for f in files if f], upgrade


def _option(word: str, rest: Iterator[str], found: list[str], files: list[str]) -> None:
    """One option of an install line: a requirements file, an editable, or a value to skip."""
    if word in ("-r", "--requirement"):
        files.append(next(rest, ""))
    elif word.startswith("--requirement="):
        files.append(word.partition("=")[2])
    elif word.startswith("-r"):  # -rFILE
        files.append(word[2:])
    elif word in ("-e", "--editable"):
        found.append(next(rest, ""))
    elif word in VALUED:
        next(rest, None)


def file_requirements(
    name: str, notebook: str, facts: Facts
) -> tuple[list[tuple[str, str]], list[str]]:
    """The requirements that a notebook's ``pip install -r NAME`` installs, each with the file
    that names it, read from the repo (from the notebook's folder, where Jupyter runs it, else
    from the repo's top folder, where a notebook that clones the repo on Colab works), the
    files its ``-r`` lines name included; and what could not be read."""
    folder = posixpath.dirname(notebook)
    for rel in dict.fromkeys([posixpath.normpath(posixpath.join(folder, name)), name]):
        if rel.startswith("../") or posixpath.isabs(rel) or not facts.is_file(rel):
            continue
        try:
            lines, unread = requirements_read(facts.text, rel)
        except UntrustedInput as exc:
            return [], [str(exc)]
        found = []
        for file, line in lines:
            if not line.startswith("-"):  # a requirement, then maybe --hash and other options
                found.append((re.split(r"\s+-", line, maxsplit=1)[0].strip(), file))
            else:
                with contextlib.suppress(ValueError):  # -e PATH; not -i URL
                    found += [(word, file) for word in requirements_of(shlex.split(line))[0]]
        return found, unread
    return [], [f"installs the requirements file {printable(name)}, which is not in the repo"]


def _cells(facts: Facts, notebook: str) -> list[str]:
    """The code cells' sources of a notebook (none when it cannot be read: TK102 says why)."""
    try:
        return code_cells(facts.text(notebook), notebook)
    except UntrustedInput:
        return []


def notebook_installs(notebook: str, facts: Facts, runtime: ColabRuntime) -> list[str]:
    """What ``notebook``'s pip install lines do on the runtime, and its minimal install line."""
    found, needed, seen = [], [], False
    for source in _cells(facts, notebook):
        for words in install_lines(source):
            seen = True
            said, kept = _install_line(words, notebook, facts, runtime)
            found += said
            needed += kept
    if not seen:
        return []
    line = " ".join(shlex.quote(word) for word in needed)
    minimal = f"%pip install --quiet {line}" if needed else "no install line: Colab has it all"
    return [*found, f"{notebook}: the minimal install line: {minimal}"]


def _install_line(
    words: list[str], notebook: str, facts: Facts, runtime: ColabRuntime
) -> tuple[list[str], list[str]]:
    """What one install line does on the runtime, per requirement (those of the requirements
    files it names too), and the words of it that the minimal line keeps."""
    requirements, files, upgrade = requirements_of(words)
    named = [(word, "") for word in requirements]
    found: list[str] = []
    needed: list[str] = []
    for name in files:
        in_file, unread = file_requirements(name, notebook, facts)
        named += in_file
        found += [f"{notebook}: {why}" for why in unread]
        needed += ["-r", name] if unread and not in_file else []
    for word, file in named:
        said, keep = judge(word, upgrade, runtime)
        where = f" (in {file})" if file else ""
        found += [f"{notebook}: {said}{where}"] if said else []
        needed += [word] if keep else []
    return found, needed


def judge(word: str, upgrade: bool, runtime: ColabRuntime) -> tuple[str, bool]:
    """What installing ``word`` on the runtime does (said to the user; "" when nothing worth
    saying), and whether the minimal install line keeps it."""
    try:
        requirement = Requirement(word)
    except InvalidRequirement:  # a URL, a path, a file: installs what it names
        return f"installs {word}, which Colab cannot know of", True
    if not runtime.applies(word):
        return "", False
    name = _normalized(requirement.name)
    if SERVED_BY.get(name) in runtime.packages:
        served = SERVED_BY[name]
        return f"installs {name} over Colab's {served} {runtime.packages[served]}: drop it", False
    colab = runtime.packages.get(name)
    if colab is None:
        return f"installs {word} (not on Colab)", True
    if not requirement.specifier.contains(colab, prereleases=True):
        return f"replaces Colab's {name} {colab} with {word}", True
    if upgrade:
        return f"upgrades Colab's {name} {colab} to its newest release", True
    return f"changes nothing: Colab has {name} {colab}", False
