"""`tutorkit deps`: the imports of a repo's notebooks and scripts, mapped to distributions and
pinned as the package index stood on the repo's last commit date; TK111 and its fix.

The pinning runs real uv against the package index (PyPI is reachable from the tests;
`--exclude-newer` makes its answer fixed): those tests are marked slow. No test resolves torch.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cli_support import commit_all
from support import git
from tutorial_repos import notebook

from tutorkit.deps import distributions, imported_modules

NOTEBOOK_CODE = (
    "%matplotlib inline\n!pip install something\nimport numpy as np\n"
    "from sklearn.datasets import load_digits\nimport os, json\nfrom utils.plots import show"
)


def course(root, date: str = "2024-06-01T12:00:00+00:00"):
    """Notebooks in folders with spaces, a local package, magics, a script, no requirements."""
    repo = root / "course"
    notebook(repo / "week 1" / "Intro to digits.ipynb", "# Intro", NOTEBOOK_CODE)
    notebook(repo / "legacy" / "broken.ipynb", "# Broken", "def (:\n  pass")
    (repo / "utils").mkdir()
    (repo / "utils" / "plots.py").write_text(
        "import yaml\nfrom PIL import Image\nfrom . import x\n"
    )
    git(root, "init", "--quiet", str(repo))
    git(repo, "add", "--all")
    env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    subprocess.run(["git", "commit", "--quiet", "-m", "Course"], cwd=repo, env=env, check=True)
    return repo


def test_third_party_imports_and_their_distributions(tmp_path):
    """Magics and shell lines skipped, the standard library and the repo's own modules left
    out, a notebook that does not parse ignored; pipreqs' mapping names the distributions."""
    repo = course(tmp_path)
    found = imported_modules(repo)
    assert found == {
        "PIL": ["utils/plots.py"],
        "numpy": ["week 1/Intro to digits.ipynb"],
        "sklearn": ["week 1/Intro to digits.ipynb"],
        "yaml": ["utils/plots.py"],
    }
    assert distributions(list(found)) == ["numpy", "pillow", "pyyaml", "scikit-learn"]


def test_a_date_that_is_not_one_is_refused(tmp_path, tk):
    code, _, err = tk("deps", course(tmp_path), "--date", "last week")
    assert code == 2 and "is not a date: give it as YYYY-MM-DD" in err


@pytest.mark.slow  # asks the package index (uv pip compile)
def test_deps_pins_as_of_the_last_commit_and_writes_only_a_new_file(tmp_path, tk):
    repo = course(tmp_path)
    code, out, err = tk("deps", repo, "--json")
    assert code == 0, err
    [proposal] = json.loads(out)
    assert (proposal["date"], proposal["date_source"]) == ("2024-06-01", "the last commit's date")
    pins = proposal["requirements"]
    # numpy 2.0.0 came out on 2024-06-16 and scikit-learn 1.5.1 in July: as of June 1st, these.
    assert "numpy==1.26.4\n" in pins and "scikit-learn==1.5.0\n" in pins
    assert "# package index stood on 2024-06-01 (the last commit's date)" in pins
    assert not (repo / "requirements.txt").exists()  # without --write, nothing is written
    code, out, _ = tk("deps", repo, "--write")
    assert code == 0 and "Wrote requirements.txt" in out and "as of 2024-06-01" in out
    assert (repo / "requirements.txt").read_text() == pins
    (repo / "requirements.txt").write_text("numpy\n")
    code, _, err = tk("deps", repo, "--write")
    assert code == 1 and "never replaces" in err
    assert (repo / "requirements.txt").read_text() == "numpy\n"


@pytest.mark.slow  # asks the package index (uv pip compile)
def test_unpinned_requirements_fail_tk111_and_its_fix_works(tmp_path, tk, template):
    repo = course(tmp_path)
    (repo / "requirements.txt").write_text("numpy\npyyaml>=6\n")
    commit_all(repo, "Requirements, unpinned")
    assert tk("adopt", repo, "--template-url", template, "--framework", "pytorch")[0] == 0
    _, out, _ = tk("check", repo, "--json")
    tk111 = {r["id"]: r for r in json.loads(out)}["TK111"]
    assert tk111["result"] == "fail"
    assert tk111["problems"] == [
        "requirements.txt does not pin numpy",
        "requirements.txt does not pin pyyaml",
    ]
    assert tk111["fix"].startswith("Run `tutorkit deps .`")
    # The fix as written: the proposal pins what requirements.txt names; the author copies them.
    code, out, err = tk("deps", repo, "--json")
    assert code == 0, err
    pins = json.loads(out)[0]["requirements"].splitlines()
    mine = [line for line in pins if line.startswith(("numpy==", "pyyaml=="))]
    assert len(mine) == 2
    (repo / "requirements.txt").write_text("\n".join(mine) + "\n")
    _, out, _ = tk("check", repo, "--json")
    assert {r["id"]: r for r in json.loads(out)}["TK111"]["result"] == "pass"
