"""Running the notebooks (TK201, with `tutorkit check --run`): which Python, and the run."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tutorkit.checks.facts import Facts
from tutorkit.checks.rule import Rule
from tutorkit.errors import TutorkitError
from tutorkit.git import git


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


RUNNER = ".github/scripts/notebooks.py"  # the generated repo's notebook runner (CI runs it)
NO_RUNNER = (
    f"{RUNNER}, the notebook runner that CI and `pytest` run, is missing: `tutorkit update` "
    "brings it back from the template (or restore it with git), then retry."
)
ROW = re.compile(r"^\| `(?P<notebook>.+)` \| (?P<result>[a-z ]+) \| (?P<detail>.*) \|$")


def summary_rows(text: str) -> list[tuple[str, str, str]]:
    """(notebook, result, detail) of each row of the runner's Markdown summary."""
    return [m.group("notebook", "result", "detail") for m in map(ROW.match, text.splitlines()) if m]


class NotebooksRun(Rule):
    """Every notebook runs in smoke mode, through the repo's notebook runner as CI runs it
    (TUTORIAL_PROFILE=smoke)."""

    id = "TK201"
    fix = (
        f"Run `TUTORIAL_PROFILE=smoke python {RUNNER} notebooks` (what `pytest` and CI run) in "
        "the repo's environment and fix the first failing notebook, or say in notebooks.toml "
        "how it runs (skip with a reason, timeout, smoke parameters, needs)."
    )
    fixes = {
        "infrastructure": (
            f"Run `TUTORIAL_PROFILE=smoke python {RUNNER} .` (what CI runs) in the repo's "
            "environment and fix the first failing notebook, or say in notebooks.toml how it "
            "runs (skip with a reason, timeout, smoke parameters, needs)."
        )
    }

    def __init__(self, python: Interpreter | None = None):
        self.python = python
        self.notes: list[str] = []

    def problems(self, facts: Facts) -> list[str]:
        python = self.python or notebook_interpreter(facts.repo)
        if not facts.is_file(RUNNER):
            return [NO_RUNNER]
        # An adopted repo's notebooks lie anywhere; the starter's in notebooks/ (its testpaths).
        return self._runner(python, facts, "." if facts.layout == "infrastructure" else "notebooks")

    def _runner(self, python: Interpreter, facts: Facts, where: str) -> list[str]:
        """The repo's own runner, as its CI runs it: notebooks.toml decides what runs how."""
        with tempfile.TemporaryDirectory(prefix="tutorkit-run-") as tmp:
            summary = Path(tmp) / "summary.md"
            args = [RUNNER, where, "-q", "--summary", str(summary), "--executed", f"{tmp}/executed"]
            proc = _run([str(python.path), *args], facts.repo)
            rows = summary_rows(summary.read_text(encoding="utf-8")) if summary.is_file() else []
        self.notes = [
            f"{name}: {result} ({detail})"
            for name, result, detail in rows
            if result in ("skipped", "not run here")
        ]
        found = [f"{name} failed: {detail}" for name, result, detail in rows if result == "failed"]
        if proc.returncode not in (0, 5) and not found:  # 5: nothing collected
            tail = proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or ["?"]
            found.append(f"the notebook runner failed (exit {proc.returncode}): {tail[-1]}")
        return found


def _run(command: list[str], repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=repo,
        check=False,
        env={**os.environ, "TUTORIAL_PROFILE": "smoke"},
        capture_output=True,
        text=True,
    )
