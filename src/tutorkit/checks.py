"""``tutorkit check``: repo-review style rules for a companion repo.

Each rule is a tiny class: an ID, a title (its docstring), a fix hint and a ``problems`` method
that returns what is wrong (nothing when the rule passes). The ID links to ``docs/checks.md``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorkit.errors import one_line
from tutorkit.git import run_git
from tutorkit.repos import ANSWERS_FILE
from tutorkit.template import DEFAULT_TEMPLATE_URL, known_frameworks, parse_version, template_url

DOCS_URL = "https://tutorkit.github.io/tutorkit/checks/"  # docs/checks.md, built by mkdocs
URL_PATTERN = re.compile(r"^(https?|ssh|git|file)://\S+$|^git@[^:\s]+:\S+$|^g[hl]:\S+$")
SHORTCUT_HOSTS = {"gh": "github.com", "gl": "gitlab.com"}  # Copier's gh: and gl: prefixes
SEED_CALL = re.compile(
    r"\b(manual_seed|set_random_seed|set_seed|seed_everything|random\.seed)\s*\("
)
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(;[^#]*)?")


class Skip(Exception):
    """The rule cannot say anything about this repo (its message says why)."""


def _load_yaml(path: Path):
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _answers(repo: Path) -> dict:
    try:
        data = _load_yaml(repo / ANSWERS_FILE)
    except (OSError, ValueError) as exc:
        raise Skip(f"{ANSWERS_FILE} cannot be read (see TK101)") from exc
    if not isinstance(data, dict):
        raise Skip(f"{ANSWERS_FILE} is not a mapping (see TK101)")
    return data


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        if match := PIN.match(line.strip().strip('"').strip("'")):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            marker = (match.group(3) or "").lstrip(";").strip()
            pins[f"{name}; {marker}" if marker else name] = match.group(2)
    return pins


class Rule:
    id = ""
    fix = ""
    severity = "fail"  # a rule whose problems should not fail the check says "warn"

    @property
    def title(self) -> str:
        return " ".join((self.__doc__ or "").split())

    @property
    def url(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}"

    def problems(self, repo: Path) -> list[str]:
        raise NotImplementedError


class AnswersValid(Rule):
    """The answers file names the template's git URL, a version tag and a known framework."""

    id = "TK101"
    fix = "Restore .copier-answers.yml from git history, or recreate the repo with `tutorkit new`."

    def problems(self, repo: Path) -> list[str]:
        path = repo / ANSWERS_FILE
        if not path.is_file():
            return [f"{ANSWERS_FILE} is missing"]
        try:
            data = _load_yaml(path)
        except ValueError as exc:
            return [f"{ANSWERS_FILE} is not valid YAML: {type(exc).__name__}"]
        if not isinstance(data, dict):
            return [f"{ANSWERS_FILE} is not a mapping"]
        found = []
        src, commit = data.get("_src_path"), data.get("_commit")
        if not isinstance(src, str) or not URL_PATTERN.match(src):
            found.append(f"_src_path {src!r} is not a git URL (plain `copier update` needs one)")
        if not isinstance(commit, str) or parse_version(commit) is None:
            found.append(f"_commit {commit!r} is not a version tag such as v1.2.0")
        frameworks = known_frameworks()
        if data.get("framework") not in frameworks:
            found.append(f"framework {data.get('framework')!r} is not one of {frameworks}")
        return found


def _url_to_record() -> str:
    """The template URL to suggest: the configured one, unless it has a problem itself."""
    url = template_url()
    return (
        url if source_problem(url, suggest=DEFAULT_TEMPLATE_URL) is None else DEFAULT_TEMPLATE_URL
    )


def source_problem(src: str, suggest: str = "") -> str | None:
    """Why Copier or Renovate cannot update from template source ``src`` on every machine."""
    suggest = suggest or _url_to_record()
    if (shortcut := re.match(r"^(gh|gl):/*(\S+?)(\.git)?/*$", src)) and shortcut[
        1
    ] in SHORTCUT_HOSTS:
        url = f"https://{SHORTCUT_HOSTS[shortcut[1]]}/{shortcut[2]}.git"
        return (
            f"_src_path {src!r} is a Copier shortcut that git cannot read (Renovate's copier "
            f"manager passes it to `git ls-remote`): record {url}"
        )
    if src.startswith("git://"):
        return (
            f"_src_path {src!r} uses git's unauthenticated protocol (GitHub stopped serving it "
            f"in 2022): record https://{src.removeprefix('git://')}"
        )
    if src.startswith(("file://", "git+file://")):
        where = f"{src!r} is a folder on one machine"
        if not re.search(r"\.git/?$", src) and not src.startswith("git+"):
            where += ", and without `.git` at its end Copier reads it as a plain folder, not git"
        return f"_src_path {where}: record the template's https URL ({suggest})"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", src) and not re.match(
        r"^[^/\s]+@[^:\s]+:", src
    ):
        kind = "an absolute" if src.startswith("/") else "a relative"
        return (
            f"_src_path {src!r} is {kind} local path, which no other machine can update from: "
            f"record the template's https URL ({suggest})"
        )
    return None


class SourceUpdatable(Rule):
    """The answers file names the template by a git URL that every machine can update from."""

    id = "TK110"
    severity = "warn"
    fix = (
        "Set `_src_path` in .copier-answers.yml to the template's https git URL (the rule names "
        "it), commit, and check with `copier update --defaults --skip-answered`."
    )

    def problems(self, repo: Path) -> list[str]:
        src = _answers(repo).get("_src_path")
        if not isinstance(src, str) or not src:
            raise Skip(f"{ANSWERS_FILE} names no template (see TK101)")
        problem = source_problem(src)
        return [problem] if problem else []


SKIPPED_FOLDERS = {".git", ".venv", "venv", ".ipynb_checkpoints", "node_modules", ".tox"}


def notebooks_of(repo: Path) -> list[Path]:
    """Every notebook of the repo, in any folder (environments and checkpoints aside)."""
    return sorted(
        path
        for path in repo.rglob("*.ipynb")
        if not SKIPPED_FOLDERS & set(path.relative_to(repo).parts[:-1])
    )


class NotebooksStripped(Rule):
    """Notebooks are valid nbformat and committed without outputs."""

    id = "TK102"
    fix = "Run `nbstripout` on the notebooks (or `pre-commit run --all-files`) and commit."

    def problems(self, repo: Path) -> list[str]:
        import nbformat

        notebooks = notebooks_of(repo)
        if not notebooks:
            return ["the repo has no notebook"]
        found = []
        for path in notebooks:
            name = path.relative_to(repo).as_posix()
            try:
                nb = nbformat.read(path, as_version=4)
                nbformat.validate(nb)
            except Exception as exc:  # noqa: BLE001  (nbformat raises several kinds)
                if "\n<<<<<<< " in path.read_text(encoding="utf-8", errors="replace"):
                    found.append(
                        f"{name} is not valid JSON: a text merge left <<<<<<< lines in it (TK120)"
                    )
                else:
                    found.append(f"{name} is not a valid notebook: {one_line(exc)[:120]}")
                continue
            dirty = [
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))
            ]
            if dirty:
                found.append(f"{name} has outputs in cells {dirty}")
        return found


class EnvironmentsAgree(Rule):
    """requirements.txt and environment.yml pin the same packages at the same versions."""

    id = "TK103"
    fix = (
        "Edit both files together (or update from the template, which renders both from one list)."
    )

    def problems(self, repo: Path) -> list[str]:
        req, env = repo / "requirements.txt", repo / "environment.yml"
        missing = [p.name for p in (req, env) if not p.is_file()]
        if missing:
            return [f"{name} is missing" for name in missing]
        try:
            environment = _load_yaml(env) or {}
        except ValueError as exc:
            return [f"environment.yml is not valid YAML: {type(exc).__name__}"]
        pip_section: list[str] = []
        for dep in environment.get("dependencies") or []:
            if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
                pip_section.extend(str(item) for item in dep["pip"])
        req_pins = _pins(req.read_text(encoding="utf-8").splitlines())
        env_pins = _pins(pip_section)
        found = []
        for name in sorted(set(req_pins) | set(env_pins)):
            left, right = req_pins.get(name, "absent"), env_pins.get(name, "absent")
            if left != right:
                found.append(f"{name}: requirements.txt {left}, environment.yml {right}")
        if not req_pins:
            found.append("requirements.txt pins no package")
        return found


def _config_seed(path: Path, seen: tuple[Path, ...] = ()) -> object:
    """The ``seed`` of a config, following ``extends:`` to the config it builds on."""
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ValueError("not a mapping")  # noqa: TRY004  (reported like a YAML error)
    if "seed" in data or not data.get("extends") or path in seen:
        return data.get("seed")
    return _config_seed(path.parent / str(data["extends"]), (*seen, path))


class ConfigsLoad(Rule):
    """Every configs/*.yaml parses and has a seed (directly or through `extends:`)."""

    id = "TK104"
    fix = "Fix the YAML syntax and give the config a `seed:` (or `extends:` a config that has one)."

    def problems(self, repo: Path) -> list[str]:
        configs = sorted((repo / "configs").glob("*.yaml"))
        if not configs:
            return ["no configs/*.yaml"]
        found = []
        for path in configs:
            name = path.relative_to(repo).as_posix()
            try:
                seed = _config_seed(path)
            except (OSError, ValueError) as exc:
                found.append(f"{name} does not load: {one_line(exc)[:120]}")
                continue
            if not isinstance(seed, int):
                found.append(f"{name} has no integer seed")
        return found


class SeedsSet(Rule):
    """The tutorial's package seeds every random generator from the config's seed."""

    id = "TK105"
    fix = (
        "Call the seeding function (torch.manual_seed, keras.utils.set_random_seed) "
        "from src/<package>/."
    )

    def problems(self, repo: Path) -> list[str]:
        package = str(_answers(repo).get("package_name") or "")
        code = sorted((repo / "src" / package).rglob("*.py")) if package else []
        if not code:
            return [f"no Python code in src/{package or '<package>'}/"]
        found = []
        if not any(SEED_CALL.search(p.read_text(encoding="utf-8", errors="replace")) for p in code):
            found.append(f"no code in src/{package}/ calls a seeding function")
        default = repo / "configs" / "default.yaml"
        try:
            if default.is_file() and not isinstance(_config_seed(default), int):
                found.append("configs/default.yaml has no seed")
        except (OSError, ValueError):
            pass  # reported by TK104
        return found


class CIWorkflow(Rule):
    """CI runs the notebooks on a weekly schedule (.github/workflows/notebooks.yml)."""

    id = "TK106"
    fix = "Restore .github/workflows/notebooks.yml from the template (`tutorkit update`)."

    def problems(self, repo: Path) -> list[str]:
        path = repo / ".github" / "workflows" / "notebooks.yml"
        if not path.is_file():
            return [".github/workflows/notebooks.yml is missing"]
        try:
            workflow = _load_yaml(path)
        except ValueError as exc:
            return [f"notebooks.yml is not valid YAML: {type(exc).__name__}"]
        # YAML 1.1 reads the key `on` as True.
        triggers = workflow.get("on", workflow.get(True)) if isinstance(workflow, dict) else None
        if not isinstance(triggers, dict) or not triggers.get("schedule"):
            return ["notebooks.yml has no `schedule:` trigger"]
        return []


class NotebooksRun(Rule):
    """Every notebook runs in smoke mode (pytest --nbmake, TUTORIAL_PROFILE=smoke)."""

    id = "TK201"
    fix = (
        "Run `TUTORIAL_PROFILE=smoke python -m pytest --nbmake notebooks` and fix the first error."
    )

    def problems(self, repo: Path) -> list[str]:
        venv = repo / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        python = str(venv) if venv.exists() else sys.executable
        proc = subprocess.run(
            [python, "-m", "pytest", "--nbmake", "--nbmake-timeout=600", "-q", "notebooks"],
            cwd=repo,
            check=False,
            env={**os.environ, "TUTORIAL_PROFILE": "smoke"},
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            return []
        tail = (proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or ["?"])[-1]
        return [f"pytest --nbmake failed (exit {proc.returncode}): {tail}"]


MARKER = re.compile(r"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)


class NoUpdateConflicts(Rule):
    """No update conflict is left: no unmerged file, no conflict markers in a file or a cell."""

    id = "TK120"
    fix = (
        "Resolve each conflict as docs/conflicts.md shows, then `git add` the file. A notebook "
        "merged by `tutorkit update` opens in Jupyter: edit the marked cell. One a text merge "
        "(plain `copier update`) broke: `git show :1:PATH > base.ipynb`, `:2:` > ours.ipynb, "
        "`:3:` > theirs.ipynb, then `nbmerge base.ipynb ours.ipynb theirs.ipynb --out PATH`."
    )

    def problems(self, repo: Path) -> list[str]:
        found = []
        proc = run_git(["-C", str(repo), "ls-files", "-u", "-z"])
        unmerged = sorted({e.split("\t", 1)[1] for e in proc.stdout.split("\0") if "\t" in e})
        found += [f"{path} is unmerged (git ls-files -u)" for path in unmerged]
        proc = run_git(["-C", str(repo), "ls-files", "-z"])
        tracked = [p for p in proc.stdout.split("\0") if p] if proc.returncode == 0 else []
        for rel in tracked:
            path = repo / rel
            if rel in unmerged or not path.is_file() or path.is_symlink():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if "<<<<<<<" not in text:
                continue
            if rel.endswith(".ipynb"):
                found += _notebook_markers(rel, text)
            elif MARKER.search(text):
                found.append(f"{rel} holds <<<<<<< conflict markers")
        return found


def _notebook_markers(rel: str, text: str) -> list[str]:
    import json

    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return [f"{rel} is not valid JSON: a text merge left <<<<<<< lines in it"]
    marked = [
        str(i + 1) for i, cell in enumerate(cells) if MARKER.search("".join(cell.get("source", "")))
    ]
    return [f"{rel} has conflicts in cells {', '.join(marked)}"] if marked else []


STATIC_RULES: list[Rule] = [
    AnswersValid(),
    NotebooksStripped(),
    EnvironmentsAgree(),
    ConfigsLoad(),
    SeedsSet(),
    CIWorkflow(),
    SourceUpdatable(),
    NoUpdateConflicts(),
]


@dataclass
class CheckResult:
    id: str
    title: str
    result: str  # "pass", "fail", "warn" or "skip"
    problems: list[str] = field(default_factory=list)
    fix: str = ""
    url: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def run_checks(repo: Path, run_notebooks: bool = False) -> list[CheckResult]:
    """Apply every rule to ``repo`` (and run its notebooks when asked)."""
    rules = STATIC_RULES + ([NotebooksRun()] if run_notebooks else [])
    results = []
    for rule in rules:
        try:
            problems, state = rule.problems(repo), None
        except Skip as skip:
            problems, state = [str(skip)], "skip"
        state = state or (rule.severity if problems else "pass")
        results.append(CheckResult(rule.id, rule.title, state, problems, rule.fix, rule.url))
    return results
