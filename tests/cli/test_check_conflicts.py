"""`tutorkit check` finds what an update left unresolved (TK120), and its documented fix works.

Real template tags, real `tutorkit update` and plain `copier update`, real nbdime.
"""

from __future__ import annotations

import json
import re
import subprocess

import nbformat
import pytest
from cli_support import NEW, NOTEBOOK, TITLE_SUFFIX, edit_notebook_title, plain_copier_update
from support import CHECKOUT, git, tool


def check(tk, repo) -> dict[str, dict]:
    _, out, _ = tk("check", repo, "--json")
    return {r["id"]: r for r in json.loads(out)}


def test_a_fresh_repo_has_no_conflict_left(make_repo, tk):
    assert check(tk, make_repo())["TK120"]["result"] == "pass"


def test_a_notebook_conflict_is_reported_by_cell_until_resolved(make_repo, tk):
    repo = make_repo()
    edit_notebook_title(repo)
    tk("update", repo)
    results = check(tk, repo)
    assert results["TK102"]["result"] == "pass"  # still a valid notebook
    assert results["TK120"]["result"] == "fail"
    assert f"{NOTEBOOK} is unmerged (git ls-files -u)" in results["TK120"]["problems"]
    git(repo, "add", NOTEBOOK)  # marked resolved, though the markers are still in cell 1
    assert check(tk, repo)["TK120"]["problems"] == [f"{NOTEBOOK} has conflicts in cells 1"]


def test_a_text_marker_in_any_file_is_reported(make_repo, tk):
    repo = make_repo()
    (repo / "notes.md").write_text("<<<<<<< mine\na\n=======\nb\n>>>>>>> theirs\n")
    git(repo, "add", "notes.md")
    assert check(tk, repo)["TK120"]["problems"] == ["notes.md holds <<<<<<< conflict markers"]


def documented_repair() -> list[str]:
    """The commands docs/checks.md gives to re-merge a notebook a text merge broke."""
    text = (CHECKOUT / "docs" / "checks.md").read_text()
    section = text.split("{#tk120}", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.slow  # a subprocess end to end; the fast suite has one of its kind
def test_a_notebook_a_text_merge_broke_is_repaired_as_the_docs_say(make_repo, tk):
    repo = make_repo()
    edit_notebook_title(repo)
    assert plain_copier_update(repo, "--vcs-ref", NEW).returncode == 0
    with pytest.raises(ValueError):
        json.loads((repo / NOTEBOOK).read_text())  # what a textual merge does to a notebook
    results = check(tk, repo)
    assert any("a text merge left <<<<<<< lines" in p for p in results["TK102"]["problems"])
    assert results["TK120"]["result"] == "fail"
    for command in documented_repair():
        command = command.replace("nbmerge ", f"{tool('nbmerge')} ", 1)
        done = subprocess.run(["bash", "-c", command], cwd=repo, capture_output=True, text=True)
        assert done.returncode in (0, 1), (command, done.stderr)  # nbmerge: 1 = conflicts left
    nb = nbformat.read(repo / NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    title = nb.cells[0].source
    assert "# My own notebook title" in title and TITLE_SUFFIX in title
