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
from tutorkit.git import git
from tutorkit.repos import ANSWERS_FILE
from tutorkit.template import docs_url, known_frameworks, parse_version

DOCS_URL = docs_url("checks/")  # docs/checks.md on the published site ($TUTORKIT_DOCS_URL)
URL_PATTERN = re.compile(r"^(https?|ssh|git|file)://\S+$|^git@[^:\s]+:\S+$|^g[hl]:\S+$")
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


class NotebooksStripped(Rule):
    """Notebooks are valid nbformat and committed without outputs."""

    id = "TK102"
    fix = "Run `nbstripout notebooks/*.ipynb` (or `pre-commit run --all-files`) and commit."

    def problems(self, repo: Path) -> list[str]:
        import nbformat

        notebooks = sorted((repo / "notebooks").glob("*.ipynb"))
        if not notebooks:
            return ["no notebooks in notebooks/"]
        found = []
        for path in notebooks:
            name = path.relative_to(repo).as_posix()
            try:
                nb = nbformat.read(path, as_version=4)
                nbformat.validate(nb)
            except Exception as exc:  # noqa: BLE001  (nbformat raises several kinds)
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


STATIC_RULES: list[Rule] = [
    AnswersValid(),
    NotebooksStripped(),
    EnvironmentsAgree(),
    ConfigsLoad(),
    SeedsSet(),
    CIWorkflow(),
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
