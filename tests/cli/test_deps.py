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


def adopted_tk111(tk, template, repo) -> dict:
    """TK111's result on ``repo`` once adopted."""
    assert tk("adopt", repo, "--template-url", template, "--framework", "pytorch")[0] == 0
    _, out, _ = tk("check", repo, "--json")
    return {r["id"]: r for r in json.loads(out)}["TK111"]


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


def test_a_notebook_whose_sources_are_not_text_is_read_for_what_text_it_has(tmp_path):
    """nbformat's source is a string or a list of strings; a hostile file's other values read
    as nothing, never as a crash."""
    repo = course(tmp_path)
    cells = [
        {"cell_type": "code", "source": 7, "metadata": {}, "outputs": []},
        {"cell_type": "code", "source": ["import torch\n", 3, None], "metadata": {}},
        {"cell_type": "markdown", "source": "import keras"},
    ]
    (repo / "odd.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    found = imported_modules(repo)
    assert found["torch"] == ["odd.ipynb"]
    assert "keras" not in found  # markdown is not code


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
    tk111 = adopted_tk111(tk, template, repo)
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


def test_tk111_reads_the_requirements_files_that_requirements_txt_names(tmp_path, tk, template):
    """`-r` files are read from the folder of the file that names them (pip's rule), CRLF and
    all; a cycle is read once; a URL, a path outside the repo, a link that leads out of it or a
    missing file is named, not followed; `-c` constraints install nothing and are not read."""
    repo = course(tmp_path)
    (repo / "requirements").mkdir()
    (repo / "requirements.txt").write_bytes(
        b"-r requirements/base.txt\r\n--requirement=requirements/missing.txt\r\n"
        b"-r https://example.com/more.txt\r\n-r ../outside.txt\r\n-c constraints.txt\r\n"
        b"-r requirements/secrets.txt\r\n"
        b"numpy==2.3.5\r\n"
    )
    (repo / "requirements" / "base.txt").write_bytes(
        b"# shared by the notebooks\r\n-r ../requirements.txt\r\n-rdev.txt\r\npyyaml>=6\r\n"
    )
    (repo / "requirements" / "dev.txt").write_text("pytest==9.0.1\nnbformat\n")
    (repo / "constraints.txt").write_text("tqdm\n")
    (repo / "requirements" / "secrets.txt").symlink_to("/etc/passwd")
    commit_all(repo, "Requirements in three files")
    tk111 = adopted_tk111(tk, template, repo)
    assert tk111["result"] == "fail"
    assert sorted(tk111["problems"]) == [
        "requirements.txt names ../outside.txt: outside the repo, which tutorkit does not read",
        "requirements.txt names https://example.com/more.txt: a URL, which tutorkit does not read",
        "requirements.txt names requirements/missing.txt: requirements/missing.txt is not a "
        "regular file",
        "requirements.txt names requirements/secrets.txt: requirements/secrets.txt points "
        "outside the repo: tutorkit does not read it",
        "requirements/base.txt does not pin pyyaml",
        "requirements/dev.txt does not pin nbformat",
    ]


@pytest.mark.slow  # asks the package index (uv pip compile)
def test_deps_pins_what_the_included_requirements_files_name(tmp_path, tk):
    repo = course(tmp_path)
    (repo / "requirements").mkdir()
    (repo / "requirements.txt").write_text("-r requirements/extra.txt\n")
    (repo / "requirements" / "extra.txt").write_text("tqdm  # progress bars in the notebooks\n")
    commit_all(repo, "Requirements")
    code, out, err = tk("deps", repo, "--json")
    assert code == 0, err
    [proposal] = json.loads(out)
    assert "tqdm" in proposal["distributions"]
    assert "\ntqdm==" in proposal["requirements"]
