"""The starter's one dependency list and its two renderings agree (TK103)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from tutorkit.checks.facts import Facts
from tutorkit.checks.rule import Rule
from tutorkit.untrusted import UntrustedInput, printable

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(;[^#]*)?")
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;#]+))?")
FILES = ("pyproject.toml", "requirements.txt", "environment.yml")
INCLUDE = re.compile(r"^(?:-r\s*|--requirement(?:\s*=\s*|\s+))(\S+)$")
MAX_INCLUDED = 20


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        if match := PIN.match(line.strip().strip('"').strip("'")):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            marker = (match.group(3) or "").lstrip(";").strip()
            pins[f"{name}; {marker}" if marker else name] = match.group(2)
    return pins


def parse_requirement(line: str) -> tuple[str, str] | None:
    """``"Scikit_Learn==1.9.1; marker"`` -> ``("scikit-learn", "1.9.1")``; an option -> None."""
    match = REQUIREMENT.match(line.strip().strip('"').strip("'"))
    if not match:
        return None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2) or ""


def requirement_lines(text: str) -> list[str]:
    """A requirements file's requirements and options, comments and blank lines aside (a line
    that ends in a backslash goes on on the next, as pip reads it)."""
    text = re.sub(r"\\\r?\n", "", text)
    lines = [line.split(" #")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def requirements_read(
    read: Callable[[str], str], rel: str = "requirements.txt"
) -> tuple[list[tuple[str, str]], list[str]]:
    """Every requirement and option of the requirements file ``rel`` and of the files its
    ``-r`` lines name, as ``(file, line)`` in pip's order (pip reads a ``-r`` path from the
    folder of the file that names it); and why a named file was not read (a URL, a path
    outside the repo, a missing file). ``read(rel)`` raises UntrustedInput on a file it
    refuses. ``-c`` files are constraints: they install nothing, and are not read."""
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for line in requirement_lines(read(name)):
            include = INCLUDE.match(line)
            if not include:
                found.append((name, line))
                continue
            target = include.group(1)
            path = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            why = _unreadable(target, path, len(seen))
            if why:
                problems.append(f"{name} names {printable(target)}: {why}")
            elif path not in seen:
                try:
                    visit(path)
                except UntrustedInput as exc:
                    problems.append(f"{name} names {printable(target)}: {exc}")

    visit(rel)
    return found, problems


def _unreadable(target: str, path: str, files_read: int) -> str:
    """Why a ``-r`` target is not read ("" when it is)."""
    if "://" in target:
        return "a URL, which tutorkit does not read"
    if posixpath.isabs(target) or path == ".." or path.startswith("../"):
        return "outside the repo, which tutorkit does not read"
    if files_read >= MAX_INCLUDED:
        return f"more than {MAX_INCLUDED} requirements files, the most tutorkit reads"
    return ""


def _dependency_files(facts: Facts) -> tuple[dict, list[str], dict]:
    """pyproject.toml's [project], requirements.txt's lines and environment.yml, parsed."""
    missing = [name for name in FILES if not facts.is_file(name)]
    if missing:
        raise UntrustedInput(f"{', '.join(missing)} missing")
    project = facts.toml("pyproject.toml").get("project", {})
    environment = facts.yaml("environment.yml") or {}
    if not isinstance(project, dict) or not isinstance(environment, dict):
        raise UntrustedInput("pyproject.toml's [project] or environment.yml is not a mapping")
    return project, requirement_lines(facts.text("requirements.txt")), environment


def _environment_lists(environment: dict) -> tuple[list[str], list[str]]:
    """environment.yml's conda packages and its pip section."""
    conda, pip = [], []
    for item in environment.get("dependencies") or []:
        if isinstance(item, dict):
            pip.extend(str(entry).strip() for entry in item.get("pip") or [])
        else:
            conda.append(str(item))
    return conda, pip


def _environment_mismatches(requirements: list[str], environment: dict) -> list[str]:
    """What environment.yml installs differently from requirements.txt."""
    conda, pip = _environment_lists(environment)
    found = [
        f"environment.yml installs {item} from conda: add it to pyproject.toml instead"
        for item in conda
        if not re.match(r"^(python|pip)\b", item)
    ]
    ours, theirs = _pins(requirements), _pins(pip)
    for name in sorted(set(ours) | set(theirs)):
        left, right = ours.get(name, "absent"), theirs.get(name, "absent")
        if left != right:
            found.append(f"{name}: requirements.txt {left}, environment.yml {right}")
    options = [line for line in requirements if line.startswith("-")]
    if options != [line for line in pip if line.startswith("-")]:
        found.append(f"environment.yml's pip options differ from requirements.txt's {options}")
    return found


def _named(project: dict) -> set[str]:
    """Every distribution pyproject.toml lists, its optional dependencies included."""
    listed = [parse_requirement(str(line)) for line in project.get("dependencies") or []]
    extras = project.get("optional-dependencies") or {}
    named = {req[0] for req in listed if req}
    return named | {
        req[0] for group in extras.values() for req in map(parse_requirement, group) if req
    }


def _pyproject_mismatches(project: dict, requirements: list[str]) -> list[str]:
    """Dependencies pyproject.toml lists without a pin, or that requirements.txt pins otherwise."""
    pinned = {req[0]: req[1] for req in map(parse_requirement, requirements) if req and req[1]}
    found = [
        f"requirements.txt pins {name}, which pyproject.toml does not list"
        for name in sorted(set(pinned) - _named(project))
    ]
    for name, pin in filter(None, map(parse_requirement, project.get("dependencies") or [])):
        found += _pin_mismatch(name, pin, pinned)
    return found


def _pin_mismatch(name: str, pin: str, pinned: dict[str, str]) -> list[str]:
    """What is wrong with one pyproject.toml dependency against requirements.txt's pins."""
    if not pin and name not in pinned:
        return [f"pyproject.toml lists {name} without a pin: write {name}==VERSION"]
    if pin and pinned.get(name, pin) != pin:
        return [f"{name}: pyproject.toml {pin}, requirements.txt {pinned[name]}"]
    return []


class DependenciesAgree(Rule):
    """pyproject.toml, requirements.txt and environment.yml agree on packages and pins."""

    id = "TK103"
    layouts = ("starter",)  # an adopted repo keeps its own files, none of these three
    fix = (
        "Add a dependency to [project] dependencies in pyproject.toml, pinned (name==version), and "
        "nowhere else; keep requirements.txt and environment.yml as the template renders them."
    )

    def problems(self, facts: Facts) -> list[str]:
        project, requirements, environment = _dependency_files(facts)
        found = _environment_mismatches(requirements, environment)
        found += _pyproject_mismatches(project, requirements)
        if not _pins(requirements):
            found.append("requirements.txt pins no package")
        return found


class RequirementsPinned(Rule):
    """An adopted repo's requirements.txt pins every requirement (name==version), in the
    requirements files its ``-r`` lines name too."""

    id = "TK111"
    layouts = ("infrastructure",)  # the starter's pins are TK103's
    fix = (
        "Run `tutorkit deps .`: it pins what requirements.txt names and what the notebooks "
        "import, as the package index stood on your last commit's date; copy each pin into "
        "the requirements file that names the package and commit."
    )

    def problems(self, facts: Facts) -> list[str]:
        if not facts.is_file("requirements.txt"):
            return []
        lines, problems = requirements_read(facts.text)
        for name, line in lines:
            requirement = parse_requirement(line)
            if requirement and not requirement[1]:
                problems.append(f"{name} does not pin {requirement[0]}")
        return problems
