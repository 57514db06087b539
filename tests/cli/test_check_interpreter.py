"""`tutorkit check --run` runs the notebooks in the reader's environment, and says which.

The order: the active virtual environment ($VIRTUAL_ENV), the active conda environment
($CONDA_PREFIX), the repo's .venv; none is one sentence. An environment committed to the repo is
never run. The environments here are real but tiny (`venv` without pip): they prove which
interpreter ran without installing anything; the notebooks really run only in the slow test.
"""

from __future__ import annotations

import json
import os
import venv
from pathlib import Path

import pytest
from cli_support import commit_all, tk_subprocess

from tutorkit.checks import notebook_interpreter
from tutorkit.errors import TutorkitError

ACTIVE = ("VIRTUAL_ENV", "CONDA_PREFIX")


def tiny_env(path: Path) -> Path:
    """A real virtual environment with nothing installed (not even pip): milliseconds to make."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(path)
    return path


def bare_environ(**variables: str) -> dict:
    """This process's environment without any active environment, plus ``variables``."""
    return {k: v for k, v in os.environ.items() if k not in ACTIVE} | variables


def python_of(prefix: Path) -> Path:
    return prefix / "bin" / "python"


def test_the_active_virtual_environment_then_conda_then_the_repos_venv(make_repo, tmp_path):
    repo = make_repo()
    active, conda = tiny_env(tmp_path / "active"), tiny_env(tmp_path / "conda")
    local = tiny_env(repo / ".venv")  # .venv/ is in the generated .gitignore
    both = bare_environ(VIRTUAL_ENV=str(active), CONDA_PREFIX=str(conda))
    found = notebook_interpreter(repo, both)
    assert (found.path, found.source) == (
        python_of(active),
        "the active virtual environment, $VIRTUAL_ENV",
    )
    found = notebook_interpreter(repo, bare_environ(CONDA_PREFIX=str(conda)))
    assert (found.path, found.source) == (
        python_of(conda),
        "the active conda environment, $CONDA_PREFIX",
    )
    found = notebook_interpreter(repo, bare_environ())
    assert (found.path, found.source) == (python_of(local), "the repo's .venv")


def test_no_environment_at_all_is_one_sentence_that_says_what_to_do(make_repo):
    with pytest.raises(TutorkitError, match="No Python environment to run the notebooks in") as e:
        notebook_interpreter(make_repo(), bare_environ())
    assert "python -m venv .venv" in str(e.value) and "conda activate" in str(e.value)


def test_an_active_environment_that_is_gone_is_named(make_repo, tmp_path):
    gone = tmp_path / "deleted-env"
    with pytest.raises(TutorkitError, match=r"\$VIRTUAL_ENV names .*deleted-env, which has no"):
        notebook_interpreter(make_repo(), bare_environ(VIRTUAL_ENV=str(gone)))


@pytest.mark.slow  # executes the generated notebook
def test_check_run_says_which_python_ran_and_that_it_runs_the_repos_code(make_repo, tmp_path):
    """Through the CLI: the interpreter is named on stderr before it runs, in --json and in
    the table. This tiny environment has no pytest, so TK201 fails, quickly, and says why."""
    repo, active = make_repo(), tiny_env(tmp_path / "reader-env")
    env = bare_environ(VIRTUAL_ENV=str(active))
    done = tk_subprocess("check", repo, "--run", "--json", env=env)
    [tk201] = [row for row in json.loads(done.stdout) if row["id"] == "TK201"]
    assert tk201["interpreter"] == str(python_of(active))
    assert tk201["result"] == "fail" and "No module named 'pytest'" in tk201["problems"][0]
    assert done.returncode == 1
    assert done.stderr == (
        f"tutorkit: TK201 runs the notebooks of {repo} with {python_of(active)} "
        "(the active virtual environment, $VIRTUAL_ENV); this executes the repo's code.\n"
    )
    # A terminal wide enough for the path on one line, however long the temporary folder is.
    table = tk_subprocess("check", repo, "--run", env={**env, "COLUMNS": "1000"})
    assert f"ran {python_of(active)}" in table.stdout
    static = json.loads(tk_subprocess("check", repo, "--json", env=env).stdout)
    assert all("interpreter" not in row for row in static)


def test_check_run_without_any_environment_refuses_in_one_sentence(make_repo):
    repo = make_repo()
    done = tk_subprocess("check", repo, "--run", env=bare_environ())
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("tutorkit: error: No Python environment") and (
        done.stderr.count("\n") == 1
    )


def test_an_environment_committed_to_the_repo_is_never_run(make_repo):
    repo = make_repo()
    tiny_env(repo / "env")
    (repo / "env" / "bin" / "python").unlink()
    (repo / "env" / "bin" / "python").write_text("#!/bin/sh\ntouch ran-the-committed-python\n")
    (repo / "env" / "bin" / "python").chmod(0o755)
    commit_all(repo, "Ship an interpreter with the tutorial")
    done = tk_subprocess("check", repo, "--run", env=bare_environ(VIRTUAL_ENV=str(repo / "env")))
    assert done.returncode == 1 and done.stdout == ""
    assert "is committed to the repo" in done.stderr and done.stderr.count("\n") == 1
    assert not (repo / "ran-the-committed-python").exists()


def test_a_piped_table_takes_its_width_from_columns(monkeypatch):
    """Output that is not a terminal: 200 columns, or $COLUMNS when it is a sane width."""
    from tutorkit.report import _piped_width

    for value, width in (("", 200), ("1000", 1000), ("80", 80), ("3", 200), ("x; rm", 200)):
        monkeypatch.setenv("COLUMNS", value)
        assert _piped_width() == width
