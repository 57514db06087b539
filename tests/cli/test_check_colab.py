"""TK112: `tutorkit check --colab DIR` against two real Colab runtime package lists.

tests/data/colab/ holds two snapshots of googlecolab/backend-info's `pip-freeze.txt` and
`os-info.txt`, copied unchanged from that repository at commits 1764c367 (2026-08-14, Python
3.12.13) and a7240792 (2026-08-19, "Upgrade to Python 3.13", Python 3.13.15): the runtime
before and after a Colab update. Nothing is fetched: the tests read those files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import commit_all
from support import git

from tutorkit.checks.colab import freeze_versions

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "colab"
BEFORE = SNAPSHOTS / "2026-08-14-python3.12"
AFTER = SNAPSHOTS / "2026-08-19-python3.13"


@pytest.fixture(scope="module")
def tracked_repo(tmp_path_factory, render) -> Path:
    """A PyTorch repo with MLflow tracking (mlflow is not on Colab), whose author pinned pandas
    at another version than Colab's and allows Python below 3.13 only."""
    repo = render(tmp_path_factory.mktemp("colab") / "repo", tracking="mlflow")
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text().replace(
        "dependencies = [\n", 'dependencies = [\n  "pandas==2.2.2",\n'
    )
    pyproject.write_text(
        text.replace('requires-python = ">=3.11"', 'requires-python = ">=3.11,<3.13"')
    )
    git(repo, "init", "--quiet")
    commit_all(repo, "Generated, with pandas pinned and Python below 3.13")
    return repo


def tk112(tk, repo: Path, snapshot: Path) -> dict:
    """TK112's result (the other rules' verdicts on a test render are theirs: TK101 fails on a
    template given by a local path)."""
    _, out, _ = tk("check", repo, "--colab", snapshot, "--json")
    return {r["id"]: r for r in json.loads(out)}["TK112"]


def test_the_runtime_before_the_update_reports_what_the_install_cell_changes(tk, tracked_repo):
    result = tk112(tk, tracked_repo, BEFORE)
    assert result["result"] == "warn"
    assert result["problems"] == [
        "the install cell replaces Colab's pandas 2.2.3 with 2.2.2",
        "Colab keeps its torch 2.11.0+cpu (CI tests the lock's 2.13.0+cpu)",
        "mlflow is not on Colab: the install cell installs its newest release, not the lock's "
        "3.17.2",
        "Colab keeps its numpy 2.0.2 (CI tests the lock's 2.4.6)",
        "Colab keeps its scikit-learn 1.6.1 (CI tests the lock's 1.9.1)",
        "Colab keeps its matplotlib 3.10.0 (CI tests the lock's 3.11.2)",
        'the minimal install cell: %pip install --quiet <this repo> "pandas==2.2.2" '
        '"mlflow==3.17.2"',
    ]
    assert result["url"].endswith("#tk112")


def test_the_runtime_after_the_update_cannot_install_it_and_moved_numpy(tk, tracked_repo):
    result = tk112(tk, tracked_repo, AFTER)
    assert result["result"] == "fail"
    problems = result["problems"]
    assert problems[0] == (
        "cannot install on Colab's Python 3.13.15: pyproject.toml requires Python >=3.11,<3.13"
    )
    assert "Colab keeps its numpy 2.1.3 (CI tests the lock's 2.4.6)" in problems
    before = tk112(tk, tracked_repo, BEFORE)["problems"]
    assert sorted(set(problems) - set(before)) == sorted(
        [problems[0], "Colab keeps its numpy 2.1.3 (CI tests the lock's 2.4.6)"]
    )


def test_without_colab_there_is_no_tk112(tk, tracked_repo):
    _, out, _ = tk("check", tracked_repo, "--json")
    assert "TK112" not in {r["id"] for r in json.loads(out)}


def test_a_folder_without_the_lists_is_one_sentence(tk, tracked_repo, tmp_path):
    code, out, err = tk("check", tracked_repo, "--colab", tmp_path)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"tutorkit: error: {tmp_path} does not hold Colab's pip-freeze.txt and os-info.txt: give "
        "a checkout of googlecolab/backend-info (git clone "
        "https://github.com/googlecolab/backend-info)."
    )


def test_freeze_lines_with_wheel_urls_give_their_version():
    text = (
        "# comment\nPyYAML==6.0.3\n"
        "torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-"
        "manylinux_2_28_x86_64.whl\nsomething @ git+https://example.org/x.git\n"
    )
    assert freeze_versions(text) == {"pyyaml": "6.0.3", "torch": "2.11.0+cpu"}
