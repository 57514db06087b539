"""Helpers of the CLI tests (shared by conftest.py and the test modules).

No mocks: the template repo is this checkout's copier.yml + templates/ committed and tagged
(v{__version__} and v1.0.0 on the same commit, v1.1.0 with deliberate changes), and every repo is
rendered by Copier and committed with git, under an isolated git configuration.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from support import git, retitle

OLD, NEW = "v1.0.0", "v1.1.0"
NEW_FILE = "CHANGELOG.md"
NEW_FILE_TEXT = "# Changelog\n\n- v1.1.0: a changelog in every companion repo.\n"
TITLE_SUFFIX = " (template v1.1)"
PYPROJECT_LINE = "# Template v1.1.0: pins reviewed.\n"
ENGINE_LINE = "# Template v1.1.0 was here.\n"
NOTEBOOK = "notebooks/01-quickstart.ipynb"


def release_v1_1(template: Path) -> None:
    """The deliberate changes of v1.1.0, one of each kind an update meets.

    - README.md (the author's once created): its title gains TITLE_SUFFIX;
    - CHANGELOG.md: added;
    - pyproject.toml: PYPROJECT_LINE appended (a template-owned file);
    - src/<package>/engine.py: ENGINE_LINE appended (template-owned code);
    - the starter notebook: its title cell gains TITLE_SUFFIX;
    - .pre-commit-config.yaml: removed;
    - tests/conftest.py: moved to tests/conftest_profile.py.
    """
    project = template / "templates" / "project"
    retitle(template, TITLE_SUFFIX)
    (project / NEW_FILE).write_text(NEW_FILE_TEXT)
    pyproject = project / "pyproject.toml.jinja"
    pyproject.write_text(pyproject.read_text() + PYPROJECT_LINE)
    engine = template / "templates" / "frameworks" / "pytorch" / "engine.py"
    engine.write_text(engine.read_text() + ENGINE_LINE)
    (project / ".pre-commit-config.yaml").unlink()
    (project / "tests" / "conftest.py").rename(project / "tests" / "conftest_profile.py")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)


def first_heading(text: str) -> str:
    """The first Markdown heading line of a README (the line v1.1.0 changes)."""
    return next(line for line in text.splitlines() if line.startswith("# "))


def tk_subprocess(
    *args: str, env: dict | None = None, cwd: Path | None = None, timeout: float | None = None
):
    """Run the CLI as a user would (a fresh interpreter); ``timeout``: a run past it is a hang."""
    return subprocess.run(
        [sys.executable, "-m", "tutorkit", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def file_hashes(repo: Path) -> dict[str, str]:
    """Every file under ``repo`` (ignored ones too, .git aside) -> sha256 of its bytes."""
    found = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and not rel.startswith(".git/"):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def snapshot(repo: Path) -> dict:
    """Everything an update could change: every file's bytes, HEAD, branches, index state."""
    files = {}
    if repo.exists():
        for path in sorted(repo.rglob("*")):
            rel = path.relative_to(repo).as_posix()
            if path.is_file() and not rel.startswith(".git/"):
                files[rel] = path.read_bytes()
    state = {"files": files}
    if (repo / ".git").exists():
        state["head"] = git(repo, "rev-parse", "HEAD")
        state["branches"] = git(repo, "branch", "--list")
        state["status"] = git(repo, "status", "--porcelain", "--untracked-files=all")
        state["worktrees"] = git(repo, "worktree", "list")
    return state


def conflict_blocks(text: str) -> list[str]:
    return re.findall(r"^<<<<<<< .*?^>>>>>>> .*?$", text, flags=re.MULTILINE | re.DOTALL)


def plain_copier_update(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """`copier update --defaults` as a user (or Renovate) runs it: no --trust."""
    return subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def edit_notebook_title(repo):
    """The author retitles the starter notebook, whose title v1.1.0 changes too."""
    import nbformat

    path = repo / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    lines = nb.cells[0].source.splitlines(keepends=True)
    nb.cells[0].source = "".join(["# My own notebook title\n", *lines[1:]])
    nbformat.write(nb, path)
    commit_all(repo, "Author retitles the notebook")


def shim_environment(prefix: Path) -> Path:
    """An environment (for $VIRTUAL_ENV) whose python is this test run's own Python, which has
    pytest, papermill and ipykernel: `tutorkit check --run` can run notebooks with it."""
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (prefix / "bin" / "python").chmod(0o755)
    return prefix
