"""requirements.lock: the complete hashed lock of a generated repo, its date, and CI's proof.

The resolutions run real uv against the package index (PyPI is reachable from the tests;
`--exclude-newer` makes its answer fixed), with torch's CPU wheel from pip's configured
find-links folder (PyTorch's CPU index is unreachable here): those tests are marked slow. The
install from the lock is the suite's session install (tests/support.py `install`: hash-checked,
as the generated README and CI do), which the execute tests run the smoke suite in.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from support import CHECKOUT, copier_answers, pip_find_links

from tutorkit.cli import main
from tutorkit.lock import LOCK, lock, lock_tools, recorded_date

LOCKS = CHECKOUT / "templates" / "locks"
LOCK_CHECK = CHECKOUT / "templates" / "project" / ".github" / "scripts" / "lock_check.py"
SETS = [
    ("pytorch", "image-classification", "none"),
    ("pytorch", "image-classification", "mlflow"),
    ("pytorch", "text-classification", "none"),
    ("pytorch", "text-classification", "mlflow"),
    ("tensorflow", "image-classification", "none"),
    ("tensorflow", "image-classification", "mlflow"),
]
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", re.MULTILINE)


def test_the_template_ships_one_lock_per_dependency_set_and_the_tools_lock():
    expected = ["-".join(s) + ".txt" for s in SETS] + ["tools.txt"]
    assert sorted(p.name for p in LOCKS.iterdir()) == sorted(expected)


@pytest.mark.parametrize("dependency_set", SETS, ids="-".join)
def test_each_shipped_lock_is_complete_hashed_and_dated(dependency_set):
    text = (LOCKS / ("-".join(dependency_set) + ".txt")).read_text()
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
    shipped = (LOCKS / "pytorch-text-classification-mlflow.txt").read_text()
    assert (repo / LOCK).read_text() == shipped
    newer = render(tmp_path / "py312", python_version="3.12")
    assert not (newer / LOCK).exists()  # no shipped lock: `tutorkit lock` writes one
    workflow = (repo / ".github" / "workflows" / "notebooks.yml").read_text()
    package = copier_answers(repo)["package_name"]
    assert "python -m pip install --require-hashes -r requirements.lock" in workflow
    assert f"lock_check.py requirements.lock --allow {package}" in workflow


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
@pytest.mark.parametrize("dependency_set", SETS, ids="-".join)
def test_the_shipped_lock_is_the_resolution_as_of_its_recorded_date(
    tmp_path, render, dependency_set
):
    """Resolving the rendered repo again as of the date its lock records gives the same bytes."""
    framework, task, tracking = dependency_set
    repo = render(tmp_path / "repo", framework=framework, task=task, tracking=tracking)
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
    before = dict(PIN.findall((repo / LOCK).read_text()))
    wheels = ["--wheels", pip_find_links()] if pip_find_links() else []
    assert main(["lock", str(repo), *wheels]) == 0
    after = dict(PIN.findall((repo / LOCK).read_text()))
    assert after.pop("tabulate") == "0.9.0"  # the newest release on 2026-12-06
    assert after == before  # nothing else moved
    assert "as the index stood on 2026-12-06" in capsys.readouterr().out
    assert main(["lock", str(repo), "--check", *wheels]) == 0


def test_a_bad_date_or_a_repo_without_requirements_is_one_sentence(tmp_path, capsys):
    assert main(["lock", str(tmp_path), "--date", "2026-13"]) == 2
    assert main(["lock", str(tmp_path), "--date", "2026-12-06"]) == 1
    err = capsys.readouterr().err
    assert "--date '2026-13' is not a date: give it as YYYY-MM-DD." in err
    assert "has no requirements.txt to lock" in err


@pytest.mark.slow
def test_the_tools_lock_is_its_resolution_and_installs_pre_commit_hash_checked(tmp_path):
    """The hygiene job's install, as the workflow runs it, into a fresh venv."""
    from importlib.metadata import version

    text = (LOCKS / "tools.txt").read_text()
    command = "python scripts/lock_template.py --date 2026-12-06"
    assert lock_tools(f"pre-commit=={version('pre-commit')}\n", "2026-12-06", command) == text
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "--require-hashes", "-r", LOCKS / "tools.txt"]
    assert subprocess.run(install, capture_output=True, check=False).returncode == 0
    done = subprocess.run(
        [python, "-m", "pre_commit", "--version"], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == f"pre-commit {version('pre-commit')}"
