"""`tutorkit adopt` brings repos tutorkit never made under the template, changing none of theirs.

The repos are made by hand here, in the shapes authors have: lecture notebooks with outputs,
spaces in file names, nested folders, no environment files, a reStructuredText README, no
remote. Adoption uses the real embedded template and records the test template's git URL
(tagged with this version, v1.0.0 and v1.1.0, see cli_support.release_v1_1), so later
releases reach the adopted repos through `tutorkit update` and plain `copier update`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from cli_support import NEW, commit_all, plain_copier_update, snapshot
from cli_support import file_hashes as hashes
from support import TEMPLATE_TAG, git

INFRASTRUCTURE = {
    ".copier-answers.yml",
    ".pre-commit-config.yaml",
}


def notebook(path: Path, *sources: str, outputs: bool = False) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(s) if s.startswith("#") else nbformat.v4.new_code_cell(s)
        for s in sources
    ]
    if outputs:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.execution_count = 1
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def lecture_repo(root: Path) -> Path:
    """PyTorch lectures: outputs committed, spaces in names, nested folders, no environment."""
    repo = root / "ml-lectures"
    notebook(
        repo / "Lecture 1 - Intro.ipynb",
        "# Lecture 1",
        "import torch\nprint(torch.ones(2).sum())",
        outputs=True,
    )
    notebook(
        repo / "week 2" / "notebooks" / "Part A (CNNs).ipynb", "# CNNs", "from torch import nn"
    )
    (repo / "README.md").write_text(
        "# Machine Learning Lectures\n\n[![badge](https://x.invalid/b.svg)](https://x.invalid)\n\n"
        "Twelve *lectures* on deep learning, with [notebooks](#).\n"
    )
    (repo / "helpers.py").write_text("import torch\n\n\ndef device():\n    return 'cpu'\n")
    git(root, "init", "--quiet", str(repo))
    git(repo, "remote", "add", "origin", "https://github.com/ada/ml-lectures.git")
    commit_all(repo, "Lectures")
    return repo


def keras_repo(root: Path) -> Path:
    """A Keras course: README.rst, unpinned requirements, a Python version file, ssh remote."""
    repo = root / "keras-course"
    notebook(repo / "intro.ipynb", "# Intro", "import keras\nfrom tensorflow import data")
    notebook(repo / "more.ipynb", "# More", "import keras")
    (repo / "README.rst").write_text(
        "Keras Course\n============\n\nHands-on Keras, one notebook a week.\n"
    )
    (repo / "requirements.txt").write_text("tensorflow\nmatplotlib\n")
    (repo / "LICENSE").write_text("                                 Apache License\n")
    (repo / ".python-version").write_text("3.12.4\n")
    git(root, "init", "--quiet", str(repo))
    git(repo, "remote", "add", "origin", "git@github.com:bob/keras-course.git")
    commit_all(repo, "Course")
    return repo


def plain_repo(root: Path) -> Path:
    """No README, no remote, a notebook that imports no framework."""
    repo = root / "notes_2024"
    notebook(repo / "scratch.ipynb", "# Scratch", "import numpy as np")
    git(root, "init", "--quiet", str(repo))
    commit_all(repo, "Notes")
    return repo


def adopt(tk, repo, template, *args):
    code, out, err = tk("adopt", repo, "--template-url", template, "--json", *args)
    return code, (json.loads(out)[0] if code == 0 else None), err


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lecture_repo,
            {
                "project_title": "Machine Learning Lectures",
                "description": "Twelve lectures on deep learning, with notebooks.",
                "framework": "pytorch",
                "github_owner": "ada",
                "repo_name": "ml-lectures",
                "python_version": "3.11",
            },
        ),
        (
            keras_repo,
            {
                "project_title": "Keras Course",
                "framework": "tensorflow",
                "github_owner": "bob",
                "repo_name": "keras-course",
                "python_version": "3.12",
                "license": "Apache-2.0",
                "author_name": "Tutorkit Tests",
                "default_branch": "main",
            },
        ),
    ],
)
def test_adopt_adds_only_the_infrastructure_in_one_commit(tmp_path, tk, template, make, expected):
    repo = make(tmp_path)
    before, head = hashes(repo), git(repo, "rev-parse", "HEAD")
    code, result, err = adopt(tk, repo, template)
    assert code == 0, err
    after = hashes(repo)
    assert {path: after[path] for path in before} == before  # every file of theirs, byte for byte
    added = set(after) - set(before)
    assert added == set(result["added"])
    assert INFRASTRUCTURE <= added
    assert {p for p in added if p.startswith(".github/workflows/")}, added
    assert not {p for p in added if p.startswith(("src/", "notebooks/", "configs/", "tests/"))}
    assert git(repo, "rev-list", f"{head}..HEAD").splitlines() == [result["commit"]]
    assert git(repo, "status", "--porcelain") == ""
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (template, TEMPLATE_TAG)
    assert answers["layout"] == "infrastructure"
    assert {key: answers[key] for key in expected} == expected
    assert result["sources"]["framework"].startswith("imports in")


def test_an_adopted_repo_takes_template_releases_and_only_them(tmp_path, tk, template):
    repo = lecture_repo(tmp_path / "ours")
    assert adopt(tk, repo, template)[0] == 0
    twin = tmp_path / "twin" / "ml-lectures"
    shutil.copytree(repo, twin, symlinks=True)
    theirs = hashes(repo)
    code, out, _ = tk("status", repo, "--json")
    assert (code, json.loads(out)[0]["state"]) == (1, "behind")
    code, out, err = tk("update", repo, "--json")
    [result] = json.loads(out)
    assert (code, result["result"]) == (0, "updated"), (result, err)
    # v1.1.0 removes .pre-commit-config.yaml; its starter files do not come with it.
    assert {f["path"]: f["change"] for f in result["files"]} == {
        ".pre-commit-config.yaml": "removed"
    }
    now = hashes(repo)
    changed = {".pre-commit-config.yaml", ".copier-answers.yml"}
    assert {p: now[p] for p in theirs if p not in changed} == {
        p: h for p, h in theirs.items() if p not in changed
    }
    assert not {"README.md", "CHANGELOG.md", "LICENSE"} & (set(now) - set(theirs))
    # Plain Copier (and so Renovate) does the same.
    done = plain_copier_update(twin, "--vcs-ref", NEW)
    assert done.returncode == 0, done.stderr
    assert hashes(twin) == now


def test_the_table_says_where_each_answer_came_from(tmp_path, tk, template):
    code, out, err = tk("adopt", lecture_repo(tmp_path), "--template-url", template)
    assert code == 0, err
    assert "the origin remote" in out and "README.md's first heading" in out
    assert "Next: tutorkit check" in out
    assert "The repo has no requirements.txt, so CI installs none: tutorkit deps" in out


def test_check_lists_what_remains_to_do(tmp_path, tk, template):
    repo = lecture_repo(tmp_path)
    assert adopt(tk, repo, template)[0] == 0
    code, out, _ = tk("check", repo, "--json")
    results = {r["id"]: r for r in json.loads(out)}
    assert code == 1
    assert results["TK101"]["result"] == "pass"
    assert results["TK106"]["result"] == "pass"
    assert results["TK120"]["result"] == "pass"
    assert "Lecture 1 - Intro.ipynb has outputs in cells [1]" in results["TK102"]["problems"]
    assert results["TK102"]["fix"].startswith("Strip the outputs as CI checks them")
    # The starter's files (pyproject.toml, environment.yml, configs/, src/<package>/, the demo
    # text) are never rendered into an adopted repo: no rule asks for them.
    assert sorted(results) == [
        "TK101",
        "TK102",
        "TK106",
        "TK108",
        "TK109",
        "TK110",
        "TK111",
        "TK120",
    ]


def test_adopt_needs_the_framework_when_the_imports_do_not_tell(tmp_path, tk, template):
    repo = plain_repo(tmp_path)
    before = snapshot(repo)
    code, result, err = adopt(tk, repo, template)
    assert code == 2 and "pass --framework pytorch or --framework tensorflow" in err
    assert snapshot(repo) == before
    code, result, err = adopt(tk, repo, template, "--framework", "tensorflow")
    assert code == 0, err
    assert result["answers"]["framework"] == "tensorflow"
    assert result["sources"]["framework"] == "--framework"
    assert result["answers"]["project_title"] == "Notes 2024"


def test_badge_is_added_only_when_asked(tmp_path, tk, template):
    repo = lecture_repo(tmp_path)
    code, result, err = adopt(tk, repo, template, "--badge")
    assert code == 0, err
    assert result["changed"] == ["README.md"]
    lines = (repo / "README.md").read_text().splitlines()
    assert lines[0] == "# Machine Learning Lectures"
    assert lines[2].startswith("[![notebooks](https://github.com/ada/ml-lectures/actions/")
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("not_git", "is not the top folder of a git repository"),
        ("dirty", "has uncommitted changes (README.md)"),
        ("adopted", "already has .copier-answers.yml"),
        ("a_file", "is not a folder"),
        ("taken", "already has .pre-commit-config.yaml, which the template provides"),
        ("bad_answer", "is not a valid Python package name"),
    ],
)
def test_bad_input_is_one_sentence_and_changes_nothing(tmp_path, tk, template, breakage, message):
    repo = lecture_repo(tmp_path)
    args = []
    if breakage == "not_git":
        shutil.rmtree(repo / ".git")
    elif breakage == "dirty":
        (repo / "README.md").write_text("# Changed\n")
    elif breakage == "adopted":
        (repo / ".copier-answers.yml").write_text("_commit: v0.1.0\n")
        commit_all(repo, "answers")
    elif breakage == "a_file":
        repo = repo / "README.md"
    elif breakage == "taken":
        (repo / ".pre-commit-config.yaml").write_text("repos: []\n")
        commit_all(repo, "my own pre-commit")
    elif breakage == "bad_answer":
        args = ["--data", "package_name=Not-Valid"]
    before = snapshot(repo)
    code, _, err = adopt(tk, repo, template, *args)
    assert code in (1, 2) and message in err
    assert err.count("\n") == 1, err
    assert snapshot(repo) == before


@pytest.mark.slow  # plain copier update in a subprocess
def test_the_fixes_of_tk101_and_tk108_work_as_written_on_an_adopted_repo(tmp_path, tk, template):
    """An adopted repo without a GitHub owner warns TK108; its fix, run as written, clears it.
    A broken answers file fails TK101; its fix (restore it from git history) clears it."""
    import subprocess
    import sys

    repo = plain_repo(tmp_path)
    assert adopt(tk, repo, template, "--framework", "pytorch")[0] == 0
    results = {r["id"]: r for r in json.loads(tk("check", repo, "--json")[1])}
    assert results["TK108"]["result"] == "warn"
    command = "copier update --defaults --vcs-ref=:current: -d github_owner=YOUR-NAME"
    assert command in results["TK108"]["fix"]
    done = subprocess.run(
        [sys.executable, "-m", *command.replace("YOUR-NAME", "ada-lab").split(), "--quiet"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    commit_all(repo, "My name")
    results = {r["id"]: r for r in json.loads(tk("check", repo, "--json")[1])}
    assert results["TK108"]["result"] == "pass"

    answers = repo / ".copier-answers.yml"
    answers.write_text("_src_path: [not, a, url]\n")
    commit_all(repo, "An accident")
    results = {r["id"]: r for r in json.loads(tk("check", repo, "--json")[1])}
    assert results["TK101"]["result"] == "fail"
    assert "git log -- .copier-answers.yml" in results["TK101"]["fix"]
    good = git(repo, "log", "--format=%H", "-1", "--skip=1", "--", ".copier-answers.yml")
    git(repo, "checkout", good, "--", ".copier-answers.yml")
    commit_all(repo, "Restored from history")
    results = {r["id"]: r for r in json.loads(tk("check", repo, "--json")[1])}
    assert results["TK101"]["result"] == "pass"
