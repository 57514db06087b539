"""``tutorkit check``: repo-review style rules for a companion repo.

Each rule is a tiny class: an ID, a title (its docstring), a fix hint and a ``problems`` method
that returns what is wrong (nothing when the rule passes). The ID links to ``docs/checks.md``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line
from tutorkit.git import git, run_git
from tutorkit.mirror import expand_shortcut
from tutorkit.repos import ANSWERS_FILE, repo_files
from tutorkit.template import (
    DEFAULT_TEMPLATE_URL,
    docs_url,
    known_frameworks,
    parse_version,
    template_url,
)

DOCS_URL = docs_url("checks/")  # docs/checks.md on the published site ($TUTORKIT_DOCS_URL)
URL_PATTERN = re.compile(r"^(https?|ssh|git|file)://\S+$|^git@[^:\s]+:\S+$|^g[hl]:\S+$")
SEED_CALL = re.compile(
    r"\b(manual_seed|set_random_seed|set_seed|seed_everything|random\.seed)\s*\("
)
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(;[^#]*)?")
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;#]+))?")


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
    if url := expand_shortcut(src):
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


class NotebooksStripped(Rule):
    """Notebooks are valid nbformat and committed without outputs."""

    id = "TK102"
    fix = "Run `nbstripout` on the notebooks (or `pre-commit run --all-files`) and commit."

    def problems(self, repo: Path) -> list[str]:
        import nbformat

        notebooks = repo_files(repo, ".ipynb")
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


def _requirement(line: str) -> tuple[str, str] | None:
    """``"Scikit_Learn==1.9.1; marker"`` -> ``("scikit-learn", "1.9.1")``; an option -> None."""
    match = REQUIREMENT.match(line.strip().strip('"').strip("'"))
    if not match:
        return None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2) or ""


def _dependency_files(repo: Path) -> tuple[dict, list[str], dict]:
    """pyproject.toml's [project], requirements.txt's lines and environment.yml, parsed."""
    import tomllib

    names = ("pyproject.toml", "requirements.txt", "environment.yml")
    missing = [name for name in names if not (repo / name).is_file()]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing")
    try:
        project = tomllib.loads((repo / names[0]).read_text(encoding="utf-8")).get("project", {})
        environment = _load_yaml(repo / names[2]) or {}
    except ValueError as exc:
        raise ValueError(f"cannot be read: {type(exc).__name__}: {one_line(exc)[:100]}") from exc
    text = (repo / names[1]).read_text(encoding="utf-8")
    lines = [line.split(" #")[0].strip() for line in text.splitlines()]
    return project, [line for line in lines if line and not line.startswith("#")], environment


def _environment_mismatches(requirements: list[str], environment: dict) -> list[str]:
    """What environment.yml installs differently from requirements.txt."""
    conda, pip = [], []
    for item in environment.get("dependencies") or []:
        if isinstance(item, dict):
            pip.extend(str(entry).strip() for entry in item.get("pip") or [])
        else:
            conda.append(str(item))
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


def _pyproject_mismatches(project: dict, requirements: list[str]) -> list[str]:
    """Dependencies pyproject.toml lists without a pin, or that requirements.txt pins otherwise."""
    pinned = {req[0]: req[1] for req in map(_requirement, requirements) if req and req[1]}
    listed = [_requirement(str(line)) for line in project.get("dependencies") or []]
    extras = project.get("optional-dependencies") or {}
    named = {req[0] for req in listed if req}
    named |= {req[0] for group in extras.values() for req in map(_requirement, group) if req}
    found = [
        f"requirements.txt pins {name}, which pyproject.toml does not list"
        for name in sorted(set(pinned) - named)
    ]
    for name, pin in filter(None, listed):
        if not pin and name not in pinned:
            found.append(f"pyproject.toml lists {name} without a pin: write {name}==VERSION")
        elif pin and pinned.get(name, pin) != pin:
            found.append(f"{name}: pyproject.toml {pin}, requirements.txt {pinned[name]}")
    return found


class DependenciesAgree(Rule):
    """pyproject.toml, requirements.txt and environment.yml agree on packages and pins."""

    id = "TK103"
    fix = (
        "Add a dependency to [project] dependencies in pyproject.toml, pinned (name==version), and "
        "nowhere else; keep requirements.txt and environment.yml as the template renders them."
    )

    def problems(self, repo: Path) -> list[str]:
        try:
            project, requirements, environment = _dependency_files(repo)
        except ValueError as exc:
            return [str(exc)]
        found = _environment_mismatches(requirements, environment)
        found += _pyproject_mismatches(project, requirements)
        if not _pins(requirements):
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


DEMO_MARKER = "TUTORIAL-DEMO"
PLACEHOLDER_OWNER = "your-github-name"


def _files_containing(repo: Path, patterns: tuple[str, ...], needle: str) -> dict[str, int]:
    """Relative path -> how often ``needle`` occurs, for the files matching ``patterns`` (globs
    under ``repo``) that hold it."""
    paths = sorted({path for pattern in patterns for path in repo.glob(pattern) if path.is_file()})
    counts = {p.relative_to(repo).as_posix(): p.read_bytes().count(needle.encode()) for p in paths}
    return {name: count for name, count in counts.items() if count}


def _uses_demo_data(repo: Path, package: str) -> bool:
    """Whether the tutorial still trains on the template's demo data (scikit-learn's digits)."""
    data = repo / "src" / package / "data.py"
    try:
        config = _load_yaml(repo / "configs" / "default.yaml") or {}
    except (OSError, ValueError):
        config = {}
    dataset = (config.get("data") or {}).get("dataset") if isinstance(config, dict) else None
    return (
        data.is_file() and "load_digits" in data.read_text(encoding="utf-8") and dataset == "digits"
    )


class DemoTextReplaced(Rule):
    """No demo passage (marked TUTORIAL-DEMO) is left once the tutorial has its own data."""

    id = "TK107"
    severity = "warn"
    fix = (
        "Replace each passage marked TUTORIAL-DEMO with your tutorial's and delete the marker "
        "(list them with `git grep -n TUTORIAL-DEMO`; AUTHORING.md says what goes where)."
    )

    def problems(self, repo: Path) -> list[str]:
        package = str(_answers(repo).get("package_name") or "")
        if _uses_demo_data(repo, package):
            return []
        patterns = ("README.md", "notebooks/*.ipynb", f"src/{package}/**/*.py", "configs/*.yaml")
        found = _files_containing(repo, patterns, DEMO_MARKER)
        return [
            f"{name} still has {n} demo passage(s) marked {DEMO_MARKER}"
            for name, n in found.items()
        ]


class OwnerNamed(Rule):
    """Badges and links name the repo's GitHub owner, not the placeholder your-github-name."""

    id = "TK108"
    severity = "warn"
    fix = (
        "Run `copier update --defaults -d github_owner=YOUR-NAME` (your GitHub user or "
        "organisation), then replace your-github-name in README.md and CITATION.cff (yours "
        "once created: no update changes them), and commit."
    )

    def problems(self, repo: Path) -> list[str]:
        patterns = ("README.md", "notebooks/*.ipynb", "CITATION.cff", ANSWERS_FILE)
        found = _files_containing(repo, patterns, PLACEHOLDER_OWNER)
        return [f"{name} names the placeholder owner {PLACEHOLDER_OWNER}" for name in found]


@dataclass(frozen=True)
class Interpreter:
    """The Python that TK201 runs the notebooks with, and why that one (said to the user)."""

    path: Path
    source: str


# Where TK201 looks for the notebooks' Python, in order: (variable, what it is).
ACTIVE_ENVIRONMENTS = (
    ("VIRTUAL_ENV", "the active virtual environment"),
    ("CONDA_PREFIX", "the active conda environment"),
)
NO_ENVIRONMENT = (
    "No Python environment to run the notebooks in: activate the tutorial's environment "
    "(source .venv/bin/activate, or conda activate NAME) or create {venv} with its requirements "
    "(python -m venv .venv && .venv/bin/pip install -r requirements.txt), then retry."
)


def _python_in(prefix: Path, conda: bool = False) -> Path:
    """An environment's interpreter (conda puts it at the prefix's root on Windows)."""
    if os.name == "nt":
        return prefix / "python.exe" if conda else prefix / "Scripts" / "python.exe"
    return prefix / "bin" / "python"


def _tracked_files(repo: Path, prefix: Path) -> list[str]:
    """The files of the environment ``prefix`` that the repo's git tracks."""
    try:
        inside = prefix.absolute().relative_to(repo.absolute())
    except ValueError:
        return []  # not inside the repo
    return git(repo, "ls-files", "--", inside.as_posix(), check=False).splitlines()


def notebook_interpreter(repo: Path, environ=None) -> Interpreter:
    """The Python to run the repo's notebooks with: the active virtual environment
    ($VIRTUAL_ENV), else the active conda environment ($CONDA_PREFIX), else the repo's .venv.

    Never an environment committed to the repo's git history: that interpreter would come with
    the repo, from whoever committed it.
    """
    environ = os.environ if environ is None else environ
    active = [(v, what) for v, what in ACTIVE_ENVIRONMENTS if environ.get(v)]
    if active:
        variable, what = active[0]
        prefix = Path(environ[variable])
        python = _python_in(prefix, conda=variable == "CONDA_PREFIX")
        if not python.exists():
            raise TutorkitError(
                f"${variable} names {prefix}, which has no {python.relative_to(prefix)}: "
                "activate an environment that exists (or deactivate this one), then retry."
            )
        found = Interpreter(python, f"{what}, ${variable}")
    else:
        prefix = repo / ".venv"
        python = _python_in(prefix)
        if not python.exists():
            raise TutorkitError(NO_ENVIRONMENT.format(venv=prefix))
        found = Interpreter(python, "the repo's .venv")
    if tracked := _tracked_files(repo, prefix):
        raise TutorkitError(
            f"{prefix} is committed to the repo ({len(tracked)} files tracked by git), and "
            "tutorkit never runs an interpreter that comes with a repo: remove it from git "
            f"(git rm -r --cached {prefix.name}) or activate another environment, then retry."
        )
    return found


class NotebooksRun(Rule):
    """Every notebook runs in smoke mode (pytest --nbmake, TUTORIAL_PROFILE=smoke)."""

    id = "TK201"
    fix = (
        "Run `TUTORIAL_PROFILE=smoke python -m pytest --nbmake notebooks` and fix the first error."
    )

    def __init__(self, python: Interpreter | None = None):
        self.python = python

    def problems(self, repo: Path) -> list[str]:
        python = self.python or notebook_interpreter(repo)
        nbmake = ["-m", "pytest", "--nbmake", "--nbmake-timeout=600", "-q", "notebooks"]
        proc = subprocess.run(
            [str(python.path), *nbmake],
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
    DependenciesAgree(),
    ConfigsLoad(),
    SeedsSet(),
    CIWorkflow(),
    DemoTextReplaced(),
    OwnerNamed(),
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
    interpreter: str = ""  # the Python a rule that runs code ran (TK201)

    def to_json(self) -> dict:
        data = asdict(self)
        if not self.interpreter:
            del data["interpreter"]
        return data


def run_checks(
    repo: Path, run_notebooks: bool = False, python: Interpreter | None = None
) -> list[CheckResult]:
    """Apply every rule to ``repo`` (and run its notebooks when asked, with ``python`` or the
    environment ``notebook_interpreter`` finds)."""
    if run_notebooks and python is None:
        python = notebook_interpreter(repo)
    rules = STATIC_RULES + ([NotebooksRun(python)] if run_notebooks else [])
    results = []
    for rule in rules:
        try:
            problems, state = rule.problems(repo), None
        except Skip as skip:
            problems, state = [str(skip)], "skip"
        state = state or (rule.severity if problems else "pass")
        ran = str(rule.python.path) if isinstance(rule, NotebooksRun) else ""
        results.append(CheckResult(rule.id, rule.title, state, problems, rule.fix, rule.url, ran))
    return results
