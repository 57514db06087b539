"""`tutorkit check` and `status` on repos as updates and strangers leave them: conflict markers
in any kind of file, links out of the repo, hostile answers, folders that are not one repo.

Each case asserts one clear outcome (a rule's problem or one sentence, never a traceback), and
that nothing outside the repo is read or printed.
"""

from __future__ import annotations

import json
import os
import subprocess

import nbformat
import pytest
from cli_support import NEW, commit_all, tk_subprocess
from support import git

CONFLICT = "<<<<<<< ours\n{a}\n=======\n{b}\n>>>>>>> theirs\n"


def check(tk, repo) -> tuple[int, dict[str, dict]]:
    code, out, err = tk("check", repo, "--json")
    assert out, err
    return code, {r["id"]: r for r in json.loads(out)}


def mark(path, a: str, b: str) -> None:
    """Conflict markers around the text's last line, as a textual merge leaves them."""
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + CONFLICT.format(a=a, b=b))


@pytest.mark.parametrize(
    ("rel", "also"),
    [
        (".github/workflows/notebooks.yml", "TK106"),  # YAML: was a ScannerError traceback
        ("pyproject.toml", "TK103"),  # TOML
        ("configs/default.yaml", "TK104"),  # a config
        (".copier-answers.yml", "TK101"),  # the answers file itself
        ("README.md", None),  # text
    ],
)
def test_conflict_markers_in_any_file_are_tk120_never_a_traceback(make_repo, tk, rel, also):
    repo = make_repo()
    mark(repo / rel, "a: 1", "a: 2")
    commit_all(repo, "A conflicted update, committed")
    code, results = check(tk, repo)  # in this process: a traceback would fail the test
    assert code == 1 and results["TK120"]["result"] == "fail"
    assert f"{rel} holds <<<<<<< conflict markers" in results["TK120"]["problems"]
    if also:
        assert results[also]["result"] in ("fail", "skip")
        assert any("conflict markers" in p or "TK101" in p for p in results[also]["problems"])


def test_a_conflicted_workflow_prints_tk120_as_a_user_sees_it(make_repo):
    """The case that was a yaml ScannerError traceback, run as a user runs it."""
    repo = make_repo()
    mark(repo / ".github/workflows/notebooks.yml", "a: 1", "a: 2")
    done = tk_subprocess("check", repo)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "TK120" in done.stdout and "holds <<<<<<< conflict markers" in done.stdout


def test_a_notebook_that_is_no_longer_json_is_not_sent_to_nbstripout(make_repo, tk):
    repo = make_repo()
    notebook = repo / "notebooks" / "01-quickstart.ipynb"
    text = notebook.read_text()
    notebook.write_text(
        text.replace('"cells": [', '"cells": [\n<<<<<<< ours\n=======\n>>>>>>> x', 1)
    )
    code, results = check(tk, repo)
    assert results["TK102"]["result"] == "fail"
    assert "nbstripout" not in results["TK102"]["fix"]
    assert "TK120" in results["TK102"]["fix"]


def test_a_notebook_link_out_of_the_repo_is_never_read(make_repo, tk, tmp_path):
    secret = tmp_path / "token.txt"
    secret.write_text("ghp_SECRETSECRETSECRETSECRET1234 do not print me")
    repo = make_repo()
    os.symlink(secret, repo / "notebooks" / "leak.ipynb")
    commit_all(repo, "A notebook that is a link")
    code, out, err = tk("check", repo, "--json")
    assert "SECRET" not in out + err and "do not print" not in out + err
    results = {r["id"]: r for r in json.loads(out)}
    assert "notebooks/leak.ipynb points outside the repo" in " ".join(results["TK102"]["problems"])


def test_a_package_name_that_is_a_path_is_never_followed(make_repo, tk):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    text = answers.read_text()
    answers.write_text(
        "\n".join(
            "package_name: ../.." if line.startswith("package_name:") else line
            for line in text.splitlines()
        )
        + "\n"
    )
    code, results = check(tk, repo)
    for rule in ("TK105", "TK107"):
        assert results[rule]["result"] == "skip"
        assert "names no valid package_name" in results[rule]["problems"][0]


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize("rel", [".copier-answers.yml", "configs/default.yaml"])
def test_a_yaml_alias_bomb_is_refused_not_expanded(make_repo, tk, rel):
    repo = make_repo()
    (repo / rel).write_text(BOMB)
    code, results = check(tk, repo)
    rule = "TK101" if rel == ".copier-answers.yml" else "TK104"
    assert results[rule]["result"] == "fail"
    assert "through YAML aliases" in " ".join(results[rule]["problems"])


def test_control_characters_in_file_names_are_escaped(make_repo, tk):
    repo = make_repo()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1", execution_count=1)]
    nbformat.write(nb, repo / "notebooks" / "evil\x1b[2J.ipynb")
    code, out, _ = tk("check", repo)
    assert "\x1b" not in out and "evil\\x1b[2J.ipynb" in out


def test_check_on_a_folder_that_is_not_a_git_repo_is_one_sentence(tmp_path, tk):
    (tmp_path / "notes.ipynb").write_text("{}")
    code, out, err = tk("check", tmp_path)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "is not the top folder of a git repository" in err


def test_check_on_a_fleet_says_it_is_a_fleet(make_repo, tk):
    make_repo("a")
    make_repo("b")
    code, out, err = tk("check", make_repo.fleet)
    assert (code, out) == (1, "")
    assert "is a fleet of 2 companion repos" in err and err.count("\n") == 1
    assert f"tutorkit check {make_repo.fleet / 'a'}" in err


def test_status_never_calls_a_repo_with_unmerged_files_current(make_repo, tk):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("v1.0.0", NEW))
    commit_all(repo, "At the latest release")
    (repo / "notes.md").write_text("base\n")
    commit_all(repo, "notes")
    git(repo, "checkout", "--quiet", "-b", "other")
    (repo / "notes.md").write_text("theirs\n")
    commit_all(repo, "theirs")
    git(repo, "checkout", "--quiet", "main")
    (repo / "notes.md").write_text("ours\n")
    commit_all(repo, "ours")
    merged = subprocess.run(["git", "merge", "other"], cwd=repo, capture_output=True, text=True)
    assert merged.returncode != 0  # a conflict: notes.md is unmerged
    code, out, _ = tk("status", repo, "--json")
    [row] = json.loads(out)
    assert code == 1 and row["state"] != "current"
    assert "unmerged files (notes.md)" in row["state"]


def test_status_never_calls_a_version_the_template_lacks_current(make_repo, tk):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("v1.0.0", "v9.9.9"))
    code, out, _ = tk("status", repo, "--json")
    [row] = json.loads(out)
    assert code == 1 and row["state"] != "current"
    assert "its template has no tag v9.9.9" in row["state"]


def test_rich_markup_in_a_file_name_is_printed_as_it_is(make_repo, tk):
    repo = make_repo()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1", execution_count=1)]
    nbformat.write(nb, repo / "notebooks" / "[bold red]loud.ipynb")
    code, out, _ = tk("check", repo)
    assert "notebooks/[bold red]loud.ipynb has outputs" in out
