"""The starter's notebooks run through the one notebook runner (.github/scripts/notebooks.py):
the repo's own pytest loads it (pyproject.toml: `pythonpath`, `-p notebooks`), and a
`notebooks.toml` entry, written as AUTHORING.md shows it, is honoured by that pytest, by the
runner run as a script (what TK201 runs) and by `tutorkit check` (TK109).

Real Copier, real pytest and the real runner, with this suite's Python (which has pytest,
papermill and ipykernel). No kernel starts: the one notebook asked for is the skipped one. The
installed repo's full run, notebooks executed, is in test_execute.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import git, tool

RUNNER = ".github/scripts/notebooks.py"
TOML_BLOCK = re.compile(r"^```toml\n(?P<body>.*?)^```", re.M | re.S)


def authoring_policy(repo: Path) -> tuple[str, str]:
    """The notebooks.toml that AUTHORING.md shows, and the notebook it names."""
    [block] = TOML_BLOCK.findall((repo / "AUTHORING.md").read_text())
    [path] = re.findall(r'^path = "(.+)"$', block, re.M)
    return block, path


def run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # three processes that load pytest and tutorkit: ~10 s a case
@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "pytorch"},  # the image guide; tensorflow's is the same text
        {"framework": "pytorch", "task": "text-classification"},  # the transformers guide
    ],
    ids=["image-classification", "text-classification"],
)
def test_the_authoring_guides_skip_is_honoured_by_the_starters_pytest(tmp_path, render, answers):
    repo = render(tmp_path / "repo", **answers)
    policy, notebook = authoring_policy(repo)
    shutil.copy2(repo / "notebooks" / "01-quickstart.ipynb", repo / notebook)
    (repo / "notebooks.toml").write_text(policy)
    row = f"| `{notebook}` | skipped | trains for an hour: run it by hand |"

    summary = tmp_path / "pytest-summary.md"
    done = run(repo, "-m", "pytest", "-p", "no:cacheprovider", f"--summary={summary}", notebook)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "trains for an hour: run it by hand" in done.stdout
    assert row in summary.read_text()

    # The runner as a script (TK201, CI of an adopted repo): one plugin, the same verdict.
    summary = tmp_path / "runner-summary.md"
    done = run(repo, RUNNER, "-q", "--summary", str(summary), notebook)
    assert done.returncode == 0, done.stdout + done.stderr
    assert row in summary.read_text()

    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "The starter, a skip"]):
        git(repo, *args)
    checked = subprocess.run(
        [tool("tutorkit"), "check", str(repo), "--json"], capture_output=True, text=True
    )
    [tk109] = [r for r in json.loads(checked.stdout) if r["id"] == "TK109"]
    assert tk109["result"] == "pass", tk109
