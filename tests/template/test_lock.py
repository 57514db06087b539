"""requirements.lock: the complete hashed lock of a generated repo, its date, and CI's proof.

The resolutions run real uv against the package index (PyPI is reachable from the tests;
`--exclude-newer` makes its answer fixed), with torch's CPU wheel from pip's configured
find-links folder (PyTorch's CPU index is unreachable here): those tests are marked slow. The
install from the lock is the suite's session install (tests/support.py `install`: hash-checked,
as the generated README and CI do), which the execute tests run the smoke suite in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from importlib.metadata import version
from pathlib import Path

import pytest
from support import (
    CHECKOUT,
    PYTORCH_CPU_INDEX,
    copier_answers,
    pip_find_links,
    pip_requirements,
)

from tutorkit.cli import main
from tutorkit.lock import CONSTRAINTS, LOCK, constraints_of, lock, lock_tools, recorded_date

LOCKS = CHECKOUT / "templates" / "locks"
LOCK_CHECK = CHECKOUT / "templates" / "project" / ".github" / "scripts" / "lock_check.py"
# (framework, task, tracking, Python): every set on 3.11, TensorFlow's on 3.12 and 3.13 too.
SETS = [
    ("pytorch", "image-classification", "none", "3.11"),
    ("pytorch", "image-classification", "mlflow", "3.11"),
    ("pytorch", "text-classification", "none", "3.11"),
    ("pytorch", "text-classification", "mlflow", "3.11"),
    *[
        ("tensorflow", "image-classification", tracking, python)
        for python in ("3.11", "3.12", "3.13")
        for tracking in ("none", "mlflow")
    ],
]


def set_name(dependency_set: tuple) -> str:
    """The shipped lock's name (templates/dependencies.jinja's lock_name) without ``.txt``."""
    return "-".join(dependency_set[:3]) + f"-py{dependency_set[3]}"


PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", re.MULTILINE)


def test_the_template_ships_one_lock_per_dependency_set_and_the_tools_lock():
    expected = [set_name(s) + ".txt" for s in SETS] + ["tools.txt", "tutorkit.txt", "runner.txt"]
    expected += [set_name(s) + ".constraints.txt" for s in SETS]
    assert sorted(p.name for p in LOCKS.iterdir()) == sorted(expected)


@pytest.mark.parametrize("dependency_set", SETS, ids=set_name)
def test_each_shipped_lock_is_complete_hashed_and_dated(dependency_set):
    text = (LOCKS / (set_name(dependency_set) + ".txt")).read_text()
    assert recorded_date(text) == "2026-12-06"
    pins = dict(PIN.findall(text))
    blocks = text.split("\n")
    package_lines = [line for line in blocks if line and line[0].isalnum()]
    assert len(package_lines) == len(pins) > 60  # every package pinned, the transitive too
    assert text.count(" \\\n    --hash=sha256:") >= len(pins)  # each with its hashes
    framework = {"pytorch": "torch", "tensorflow": "tensorflow-cpu"}[dependency_set[0]]
    assert framework in pins and {"numpy", "scipy", "pillow", "pytest", "nbclient"} <= set(pins)
    if dependency_set[0] == "pytorch":
        assert pins["torch"] == "2.13.0+cpu"
        assert text.startswith("--extra-index-url https://download.pytorch.org/whl/cpu\n")
        assert not any(name.startswith("nvidia-") for name in pins)  # no CUDA


def test_a_repo_renders_its_sets_lock_and_the_check_script(tmp_path, render):
    repo = render(tmp_path / "text", task="text-classification", tracking="mlflow")
    shipped = (LOCKS / "pytorch-text-classification-mlflow-py3.11.txt").read_text()
    assert (repo / LOCK).read_text() == shipped
    newer = render(tmp_path / "py312", python_version="3.12")
    assert not (newer / LOCK).exists()  # no shipped lock: `tutorkit lock` writes one
    workflow = (repo / ".github" / "workflows" / "notebooks.yml").read_text()
    package = copier_answers(repo)["package_name"]
    assert "python -m pip install --require-hashes -r requirements.lock" in workflow
    assert f"lock_check.py requirements.lock --allow {package}" in workflow


LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}
ELSEWHERE = [
    {"sys_platform": "darwin", "platform_machine": "arm64", "python_version": "3.11"},
    {"sys_platform": "win32", "platform_machine": "AMD64", "python_version": "3.11"},
    {"sys_platform": "linux", "platform_machine": "aarch64", "python_version": "3.11"},
    {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.12"},
]


@pytest.mark.parametrize("dependency_set", SETS, ids=set_name)
def test_the_constraints_are_the_locks_versions_guarded_by_its_platform(dependency_set):
    """constraints.txt: every pin of the lock, unhashed, applying on Linux x86-64 with Python
    3.11 only (pip ignores a constraint whose marker is false: elsewhere the direct pins)."""
    from packaging.requirements import Requirement

    name, python = set_name(dependency_set), dependency_set[3]
    lock_text = (LOCKS / f"{name}.txt").read_text()
    shipped = (LOCKS / f"{name}.constraints.txt").read_text()
    assert shipped == constraints_of(lock_text, python)
    lines = [Requirement(line) for line in shipped.splitlines() if not line.startswith("#")]
    assert {(r.name, str(r.specifier)) for r in lines} == {
        (pin, f"=={version}") for pin, version in PIN.findall(lock_text)
    }
    assert "--hash" not in shipped
    here = {**LINUX, "python_version": python}
    elsewhere = [*ELSEWHERE, LINUX] if python != "3.11" else ELSEWHERE
    for requirement in lines:
        assert requirement.marker.evaluate(here)
        assert not any(requirement.marker.evaluate(other) for other in elsewhere if other != here)
    if dependency_set[0] == "pytorch":  # why a GPU build deletes the -c line too
        assert any(str(r.specifier) == "==2.13.0+cpu" for r in lines if r.name == "torch")


def test_requirements_and_environment_name_the_constraints_where_a_lock_is_shipped(
    tmp_path, render
):
    import yaml

    repo = render(tmp_path / "locked")
    assert (repo / CONSTRAINTS).read_text() == constraints_of((repo / LOCK).read_text(), "3.11")
    lines = (repo / "requirements.txt").read_text().splitlines()
    assert "-c constraints.txt" in lines
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    assert "-c constraints.txt" in environment["dependencies"][-1]["pip"]
    workflow = (repo / ".github" / "workflows" / "notebooks.yml").read_text()
    conda_job = workflow.split("\n  conda:\n")[1].split("\n  report:\n")[0]
    package = copier_answers(repo)["package_name"]
    assert f"lock_check.py requirements.lock --allow {package}" in conda_job
    newer = render(tmp_path / "py312", python_version="3.12")
    assert not (newer / CONSTRAINTS).exists()
    assert "constraints" not in (newer / "requirements.txt").read_text()
    assert "constraints" not in (newer / "environment.yml").read_text()


def lock_check(lock_text: str, tmp_path: Path, *allow: str) -> subprocess.CompletedProcess:
    path = tmp_path / "requirements.lock"
    path.write_text(lock_text)
    args = [arg for name in allow for arg in ("--allow", name)]
    return subprocess.run(
        [sys.executable, str(LOCK_CHECK), str(path), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_ci_step_fails_naming_each_package_the_environment_has_differently(tmp_path):
    """This test's own environment, deliberately not the lock: pytest at another version, a
    locked package absent, and everything else installed here unnamed by the lock."""
    import yaml

    text = (
        f"pyyaml=={yaml.__version__} \\\n    --hash=sha256:{'0' * 64}\n"
        f"pytest==0.0.1 \\\n    --hash=sha256:{'1' * 64}\n"
        f"no-such-package==1.0 \\\n    --hash=sha256:{'2' * 64}\n"
    )
    done = lock_check(text, tmp_path)
    assert done.returncode == 1
    assert f"pytest: the lock pins 0.0.1, and {pytest.__version__} is installed" in done.stdout
    assert "no-such-package: the lock pins 1.0, and it is not installed" in done.stdout
    assert "copier: " in done.stdout and "the lock does not name it" in done.stdout
    assert "::pyyaml: " not in done.stdout  # at the locked version: no line


@pytest.mark.slow
def test_the_ci_step_passes_in_the_environment_installed_from_the_lock(installed):
    """The suite's session install (hash-checked from requirements.lock), checked as CI does."""
    done = installed.run(
        ".github/scripts/lock_check.py", LOCK, "--allow", installed.package, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The environment is requirements.lock" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("dependency_set", SETS, ids=set_name)
def test_the_shipped_lock_is_the_resolution_as_of_its_recorded_date(
    tmp_path, render, dependency_set
):
    """Resolving the rendered repo again as of the date its lock records gives the same bytes."""
    framework, task, tracking, python = dependency_set
    repo = render(
        tmp_path / "repo", framework=framework, task=task, tracking=tracking, python_version=python
    )
    before = (repo / LOCK).read_text()
    locked = lock(str(repo), wheels=pip_find_links(), check=True)
    assert not locked.changed and locked.text == before and locked.date == "2026-12-06"


@pytest.mark.slow
def test_an_authors_dependency_is_added_to_the_lock_as_of_the_recorded_date(
    tmp_path, render, capsys
):
    repo = render(tmp_path / "repo")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "dependencies = [", 'dependencies = [\n  "tabulate==0.9.0",', 1
        )
    )
    committed(repo)
    before = dict(PIN.findall((repo / LOCK).read_text()))
    wheels = ["--wheels", pip_find_links()] if pip_find_links() else []
    assert main(["lock", str(repo), *wheels]) == 0
    after = dict(PIN.findall((repo / LOCK).read_text()))
    assert after.pop("tabulate") == "0.9.0"  # the newest release on 2026-12-06
    assert after == before  # nothing else moved
    assert "as the index stood on 2026-12-06" in capsys.readouterr().out
    assert (repo / CONSTRAINTS).read_text() == constraints_of((repo / LOCK).read_text(), "3.11")
    assert "tabulate==0.9.0; " in (repo / CONSTRAINTS).read_text()  # written together
    assert main(["lock", str(repo), "--check", *wheels]) == 0
    (repo / CONSTRAINTS).write_text("# edited by hand\n")
    assert main(["lock", str(repo), "--check", *wheels]) == 1
    assert f"{CONSTRAINTS} is not what requirements.txt resolves to" in capsys.readouterr().err


def committed(repo: Path) -> Path:
    """The rendered repo as an author has it: a git repo with a first commit."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def test_a_lock_that_changes_is_written_only_into_a_git_repo_with_a_commit(
    tmp_path, render, capsys
):
    """tutorkit writes through its one writer, which can undo a landing only in a git repo."""
    repo = render(tmp_path / "repo", framework="tensorflow")
    (repo / LOCK).write_text("# stale\n")
    before = {path: path.read_bytes() for path in repo.rglob("*") if path.is_file()}
    assert main(["lock", str(repo)]) == 1
    assert "is not a git repo with a commit" in capsys.readouterr().err
    assert before == {path: path.read_bytes() for path in repo.rglob("*") if path.is_file()}


def test_a_bad_date_or_a_repo_without_requirements_is_one_sentence(tmp_path, capsys):
    assert main(["lock", str(tmp_path), "--date", "2026-13"]) == 2
    assert main(["lock", str(tmp_path), "--date", "2026-12-06"]) == 1
    err = capsys.readouterr().err
    assert "--date '2026-13' is not a date: give it as YYYY-MM-DD." in err
    assert "has no requirements.txt to lock" in err


@pytest.mark.slow
def test_the_tools_lock_is_its_resolution_and_installs_pre_commit_and_uv_hash_checked(tmp_path):
    """The hygiene job's install, as the workflow runs it, into a fresh venv."""

    text = (LOCKS / "tools.txt").read_text()
    command = "python scripts/lock_template.py --date 2026-12-06"
    tools = f"pre-commit=={version('pre-commit')}\nuv=={version('uv')}\n"
    assert lock_tools(tools, "2026-12-06", command) == text
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "--require-hashes", "-r", LOCKS / "tools.txt"]
    assert subprocess.run(install, capture_output=True, check=False).returncode == 0
    done = subprocess.run(
        [python, "-m", "pre_commit", "--version"], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == f"pre-commit {version('pre-commit')}"
    done = subprocess.run(  # the canary's bisection resolves with it
        [python, "-m", "uv", "--version"], capture_output=True, text=True, check=False
    )
    assert done.stdout.startswith(f"uv {version('uv')}")


@pytest.mark.slow
def test_the_one_command_installs_get_exactly_the_lock(tmp_path, render):
    """environment.yml's pip section installed as conda installs it, into a fresh venv: conda
    writes the section's lines to a requirements file beside environment.yml and runs
    ``python -m pip install -U -r FILE`` there (conda/env/installers/pip.py; conda itself is not
    installed here). requirements.txt holds the same lines, so `pip install -r requirements.txt`
    is the same install. The CI step then finds the environment is the lock."""
    import yaml

    repo = render(tmp_path / "repo")
    pip_lines = yaml.safe_load((repo / "environment.yml").read_text())["dependencies"][-1]["pip"]
    requirements = [line for line in pip_requirements(repo).splitlines() if line and line[0] != "#"]
    assert [line for line in pip_lines if line != PYTORCH_CPU_INDEX] == requirements
    condas_file = repo / "condaenv.tutorkit.requirements.txt"
    condas_file.write_text("".join(f"{line}\n" for line in requirements))
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "-U", "-r", condas_file.name]
    done = subprocess.run(install, cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    package = copier_answers(repo)["package_name"]
    check = [python, str(LOCK_CHECK), str(repo / LOCK), "--allow", package]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    packages = len(PIN.findall((repo / LOCK).read_text()))
    assert f"{packages} packages at the locked versions" in done.stdout


def interpreter(version: str) -> str | None:
    """A Python ``version`` of this machine (on PATH, or pyenv's), or None."""
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(map(str, Path.home().glob(f".pyenv/versions/{version}*/bin/python3")))
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.stdout.strip() == version:
            return candidate
    return None


@pytest.mark.slow
def test_a_tensorflow_lock_for_python_3_13_installs_hash_checked_and_trains(tmp_path, render):
    """The 3.13 lock installed as the README says, with Python 3.13 (pyenv's here), proven by
    the CI step, then the smoke training run."""
    python = interpreter("3.13")
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    repo = render(tmp_path / "repo", framework="tensorflow", python_version="3.13")
    venv_dir = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv_dir)], check=True)
    env_python = str(venv_dir / "bin" / "python")
    for args in (["--require-hashes", "-r", LOCK], ["--no-deps", "-e", "."]):
        done = subprocess.run(
            [env_python, "-m", "pip", "install", "-q", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    package = copier_answers(repo)["package_name"]
    checked = subprocess.run(
        [env_python, str(LOCK_CHECK), LOCK, "--allow", package],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    packages = len(PIN.findall((repo / LOCK).read_text()))
    assert checked.returncode == 0 and f"{packages} packages at the locked" in checked.stdout
    trained = subprocess.run(
        [env_python, "-m", f"{package}.train", "--config", "smoke"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]


@pytest.mark.slow
def test_the_runner_lock_is_its_resolution_and_runs_a_notebook_hash_checked(tmp_path):
    """An adopted repo's notebook runner, installed as its workflow installs it (the hashed
    lock alone, into a fresh venv), executes a notebook through notebooks.py."""
    import nbformat

    from tutorkit.lock import lock_tools

    text = (LOCKS / "runner.txt").read_text()
    pins = "".join(f"{name}=={version(name)}\n" for name in ("pytest", "papermill", "ipykernel"))
    command = "python scripts/lock_template.py --date 2026-12-06"
    assert lock_tools(pins, "2026-12-06", command) == text
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    lock_file = tmp_path / "requirements-runner.lock"
    lock_file.write_text(text)
    install = [python, "-m", "pip", "install", "-q", "--require-hashes", "-r", str(lock_file)]
    assert subprocess.run(install, capture_output=True, check=False).returncode == 0
    repo = tmp_path / "repo"
    (repo / "notes").mkdir(parents=True)
    cell = nbformat.v4.new_code_cell("print(6 * 7)")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), repo / "notes" / "answer.ipynb")
    runner = CHECKOUT / "templates" / "project" / ".github" / "scripts" / "notebooks.py"
    summary = tmp_path / "summary.md"
    done = subprocess.run(
        [python, str(runner), ".", f"--summary={summary}", "-p", "no:cacheprovider"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| `notes/answer.ipynb` | passed" in summary.read_text()
