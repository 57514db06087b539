"""`tutorkit update` keeps every edit: real template tags, real repos, real Copier and git.

The template's v1.1.0 (``cli_support.release_v1_1``) changes one file of each kind: the
author's README, template-owned pyproject.toml and engine.py, the starter notebook, and it adds,
removes and moves files. Each test makes the edits an author makes, updates, and checks the
files on disk and what the update reported.
"""

from __future__ import annotations

import json
import subprocess

import nbformat
import pytest
import yaml
from cli_support import (
    ENGINE_LINE,
    NEW,
    NEW_FILE,
    NEW_FILE_TEXT,
    NOTEBOOK,
    OLD,
    PYPROJECT_LINE,
    TITLE_SUFFIX,
    commit_all,
    conflict_blocks,
    edit_notebook_title,
    first_heading,
    plain_copier_update,
    snapshot,
)
from support import git

USER_LINE = "# Notes the author added to the README, far from the title.\n"
MY_PYPROJECT_LINE = "# The author's own note at the end of pyproject.toml.\n"


def package(repo) -> str:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())["package_name"]


def edit_kept(repo):
    """Edits the template does not touch: a hyperparameter and a README paragraph."""
    config = repo / "configs" / "default.yaml"
    config.write_text(config.read_text() + "# tuned by the author\n")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\n" + USER_LINE)
    commit_all(repo, "Author edits")


def edit_pyproject(repo):
    """An edit at the very place v1.1.0 changes a template-owned file (its last line)."""
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + MY_PYPROJECT_LINE)
    commit_all(repo, "Author's note in pyproject.toml")


def add_notes(repo):
    (repo / "notes").mkdir()
    (repo / "notes" / "ideas.md").write_text("ideas\n")
    commit_all(repo, "Author adds notes")


def delete_license(repo):
    git(repo, "rm", "--quiet", "LICENSE")
    commit_all(repo, "Author deletes the license")


def update_one_repo(tk, repo, *options):
    """``tutorkit update REPO --json``: the exit code and the repo's one result."""
    code, out, _ = tk("update", repo, *options, "--json")
    [result] = json.loads(out)
    return code, result


def file_entry(result: dict, path: str) -> dict:
    return next(f for f in result["files"] if f["path"] == path)


def results_by_repo(out: str) -> dict:
    return {r["repo"].rsplit("/", 1)[-1]: r for r in json.loads(out)}


def test_author_edits_are_kept_and_template_changes_arrive(make_repo, tk):
    repo = make_repo()
    edit_kept(repo)
    readme_before = (repo / "README.md").read_text()
    code, result = update_one_repo(tk, repo)
    assert code == 0, result
    assert (result["result"], result["from_version"], result["to_version"]) == ("updated", OLD, NEW)
    assert (repo / "configs" / "default.yaml").read_text().endswith("# tuned by the author\n")
    # The README is the author's: left alone, the template's new title shown as a suggestion.
    assert (repo / "README.md").read_text() == readme_before
    readme = file_entry(result, "README.md")
    assert readme["change"] == "author's" and TITLE_SUFFIX in readme["suggestion"]
    # Template-owned files follow the template; added, removed and moved files too.
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert (repo / "pyproject.toml").read_text().endswith(PYPROJECT_LINE)
    assert (repo / "src" / package(repo) / "engine.py").read_text().endswith(ENGINE_LINE)
    assert not (repo / ".pre-commit-config.yaml").exists()
    assert not (repo / "tests" / "conftest.py").exists()
    assert (repo / "tests" / "conftest_profile.py").exists()
    notebook = nbformat.read(repo / NOTEBOOK, as_version=4)
    assert first_heading(notebook.cells[0].source).endswith(TITLE_SUFFIX)
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEW


def test_a_line_both_changed_is_a_reported_conflict(make_repo, tk):
    repo = make_repo()
    edit_pyproject(repo)
    code, out, _ = tk("update", repo)
    assert code == 1
    assert "conflicts in pyproject.toml" in out
    [block] = conflict_blocks((repo / "pyproject.toml").read_text())
    assert MY_PYPROJECT_LINE.strip() in block and PYPROJECT_LINE.strip() in block
    assert "pyproject.toml" in git(repo, "ls-files", "--unmerged")
    assert (repo / NEW_FILE).exists()


def test_a_notebook_conflict_leaves_a_valid_notebook_with_both_sides(make_repo, tk):
    repo = make_repo()
    edit_notebook_title(repo)
    code, result = update_one_repo(tk, repo)
    assert (code, result["result"]) == (1, "conflicts")
    assert result["conflicts"] == [NOTEBOOK]
    assert "conflicts in cell 1 (" in file_entry(result, NOTEBOOK)["detail"]
    nb = nbformat.read(repo / NOTEBOOK, as_version=4)
    nbformat.validate(nb)  # valid nbformat 4.5: Jupyter opens it to resolve the conflict
    title = nb.cells[0].source
    assert "<<<<<<< before updating\n# My own notebook title\n=======\n" in title
    assert f"{TITLE_SUFFIX}\n>>>>>>> after updating" in title
    assert NOTEBOOK in git(repo, "ls-files", "--unmerged")


def test_a_notebook_the_author_rewrote_stays_theirs(make_repo, tk):
    repo = make_repo()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Flowers, with transfer learning\n\nMy own tutorial."),
        nbformat.v4.new_code_cell("import torch\nfrom torchvision import models"),
        nbformat.v4.new_markdown_cell("## The data\n\nOxford's 102 flowers, downloaded once."),
        nbformat.v4.new_code_cell("model = models.resnet18(weights=None)\nprint(model)"),
    ]
    for index, cell in enumerate(nb.cells):
        cell["id"] = str(index)  # as nbstripout numbers them: the same ids as the starter's
    nbformat.write(nb, repo / NOTEBOOK)
    commit_all(repo, "My own tutorial replaces the starter")
    mine = (repo / NOTEBOOK).read_bytes()
    code, result = update_one_repo(tk, repo)
    assert (code, result["result"], result["conflicts"]) == (0, "updated", [])
    assert (repo / NOTEBOOK).read_bytes() == mine
    entry = file_entry(result, NOTEBOOK)
    assert entry["change"] == "author's"
    assert "not applied (you removed these cells)" in entry["detail"]


@pytest.mark.slow  # plain copier update in a subprocess
def test_an_authors_file_deleted_is_recreated_like_plain_copier_does(make_repo, tk, tmp_path):
    repo, twin = make_repo("repo"), make_repo("twin")
    for each in (repo, twin):
        git(each, "rm", "--quiet", "README.md")
        commit_all(each, "No README")
    code, result = update_one_repo(tk, repo)
    assert code == 0 and file_entry(result, "README.md")["change"] == "added"
    assert plain_copier_update(twin).returncode == 0
    assert (repo / "README.md").read_text() == (twin / "README.md").read_text()


@pytest.mark.slow  # plain copier update in a subprocess
def test_plain_copier_update_leaves_the_authors_files_alone_too(make_repo):
    repo = make_repo()
    edit_kept(repo)
    readme = (repo / "README.md").read_text()
    proc = plain_copier_update(repo, "--vcs-ref", NEW)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "README.md").read_text() == readme
    assert (repo / "pyproject.toml").read_text().endswith(PYPROJECT_LINE)


def test_user_added_files_are_kept_and_template_added_files_appear(make_repo, tk):
    repo = make_repo()
    add_notes(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 0, result
    assert (repo / "notes" / "ideas.md").read_text() == "ideas\n"
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert NEW_FILE in result["changed"]
    assert file_entry(result, NEW_FILE)["change"] == "added"


def test_template_file_the_user_deleted_stays_deleted_and_is_reported(make_repo, tk):
    repo = make_repo()
    delete_license(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 0
    assert not (repo / "LICENSE").exists()
    assert result["kept_deleted"] == ["LICENSE"]
    assert (repo / NEW_FILE).exists()


@pytest.mark.parametrize(
    "breakage, reason",
    [
        ("dirty", "uncommitted changes in README.md"),
        ("untracked", "uncommitted changes in scratch.py"),
        ("not_git", "not a git repository"),
        ("no_answers", "no .copier-answers.yml"),
        ("corrupt_answers", "not valid YAML"),
        ("answers_without_commit", "no template version tag"),
        ("missing_dir", "not a directory"),
    ],
)
def test_unusable_repos_are_refused_and_left_unchanged(make_repo, tk, breakage, reason):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    if breakage == "dirty":
        (repo / "README.md").write_text("uncommitted\n")
    elif breakage == "untracked":
        (repo / "scratch.py").write_text("x = 1\n")
    elif breakage == "not_git":
        subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    elif breakage == "no_answers":
        git(repo, "rm", "--quiet", ".copier-answers.yml")
        commit_all(repo, "lose the answers")
    elif breakage == "corrupt_answers":
        answers.write_text("_src_path: [unclosed\n  : :\n")
        commit_all(repo, "corrupt the answers")
    elif breakage == "answers_without_commit":
        answers.write_text(answers.read_text().replace(f"_commit: {OLD}\n", ""))
        commit_all(repo, "answers without _commit")
    elif breakage == "missing_dir":
        repo = repo.parent / "does-not-exist"
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 1
    assert result["result"] == "refused"
    assert reason in result["reason"]
    assert snapshot(repo) == before


def test_repo_already_at_the_latest_is_a_no_op(make_repo, tk):
    repo = make_repo()
    assert tk("update", repo)[0] == 0
    commit_all(repo, "Take the update")
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 0
    assert result["result"] == "up to date"
    assert snapshot(repo) == before


def test_to_an_older_or_unknown_version(make_repo, tk):
    repo = make_repo()
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--to", OLD)
    assert (code, result["result"]) == (0, "up to date")
    code, result = update_one_repo(tk, repo, "--to", "v9.9.9")
    assert (code, result["result"]) == (1, "failed")
    assert "no tag v9.9.9" in result["reason"]
    assert snapshot(repo) == before


def test_branch_mode_commits_on_a_new_branch_and_leaves_the_current_one(make_repo, tk):
    repo = make_repo()
    edit_kept(repo)
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "template-v1.1")
    assert code == 0, result
    assert result["result"] == "updated"
    assert snapshot(repo) == {**before, "branches": git(repo, "branch", "--list")}
    assert git(repo, "branch", "--list").split() == ["*", "main", "template-v1.1"]
    assert git(repo, "show", f"template-v1.1:{NEW_FILE}") == NEW_FILE_TEXT.strip()
    assert "# tuned by the author" in git(repo, "show", "template-v1.1:configs/default.yaml")
    shown = git(repo, "ls-tree", "-r", "--name-only", "template-v1.1")
    assert ".pre-commit-config.yaml" not in shown.splitlines()
    assert git(repo, "log", "-1", "--format=%s", "template-v1.1") == (
        f"Update template from {OLD} to {NEW}"
    )
    # The template's change to the author's README, not applied, is in the commit message.
    body = git(repo, "log", "-1", "--format=%b", "template-v1.1")
    assert "The template's changes to your own files, not applied:" in body
    assert f"+# Handwritten Digits with a CNN{TITLE_SUFFIX}" in body
    # The same branch again is refused, nothing touched.
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "template-v1.1")
    assert (code, result["result"]) == (1, "refused")
    assert snapshot(repo) == before


def test_branch_mode_needs_no_clean_working_tree(make_repo, tk):
    repo = make_repo()
    (repo / "draft.md").write_text("work in progress\n")
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "tk-update")
    assert (code, result["result"]) == (0, "updated")
    assert snapshot(repo) == {**before, "branches": git(repo, "branch", "--list")}


def test_branch_mode_with_a_conflict_commits_the_markers_on_the_branch_only(make_repo, tk):
    repo = make_repo()
    edit_pyproject(repo)
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "tk-update")
    assert (code, result["result"], result["conflicts"]) == (1, "conflicts", ["pyproject.toml"])
    assert snapshot(repo) == {**before, "branches": git(repo, "branch", "--list")}
    [block] = conflict_blocks(git(repo, "show", "tk-update:pyproject.toml"))
    assert MY_PYPROJECT_LINE.strip() in block
    assert "Conflicts to resolve in: pyproject.toml" in git(
        repo, "log", "-1", "--format=%B", "tk-update"
    )


def test_dry_run_reports_and_changes_nothing(make_repo, tk):
    repo = make_repo()
    edit_pyproject(repo)
    before = snapshot(repo)
    code, out, _ = tk("update", repo, "--dry-run")
    assert code == 1
    assert "would have conflicts in pyproject.toml" in out
    assert "what the update would do to each file" in out
    assert snapshot(repo) == before


def test_preview_equals_the_outcome_for_every_class(make_repo, tk):
    """One repo meets every class; the dry run's per-file report is the real update's."""
    repo = make_repo()
    edit_kept(repo)  # README: the author's (the template's new title is a suggestion)
    edit_pyproject(repo)  # pyproject.toml: conflict
    delete_license(repo)  # LICENSE: kept deleted
    path = repo / NOTEBOOK  # the notebook: merged (the author's cell + the template's title)
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n\nA last word from the author."
    nbformat.write(nb, path)
    commit_all(repo, "The author's last word")
    before = snapshot(repo)
    code, preview = update_one_repo(tk, repo, "--dry-run")
    assert snapshot(repo) == before
    code_real, result = update_one_repo(tk, repo)
    assert (code, code_real) == (1, 1)
    assert preview["files"] == result["files"]
    changes = {f["path"]: f["change"] for f in result["files"]}
    assert changes[NEW_FILE] == "added"
    assert changes[".pre-commit-config.yaml"] == "removed"
    assert changes[f"src/{package(repo)}/engine.py"] == "updated"
    assert changes[NOTEBOOK] == "merged"
    assert changes["pyproject.toml"] == "conflict"
    assert changes["README.md"] == "author's"
    assert changes["LICENSE"] == "kept deleted"
    # And on disk, each as classified.
    merged = nbformat.read(path, as_version=4)
    assert first_heading(merged.cells[0].source).endswith(TITLE_SUFFIX)
    assert merged.cells[-1].source.endswith("A last word from the author.")


@pytest.mark.parametrize("kind", ["a symbolic link", "a folder"])
def test_a_refused_repo_is_refused_by_the_preview_too(make_repo, tk, kind):
    repo = make_repo()
    target = repo / "src" / package(repo) / "engine.py"
    target.unlink()
    if kind == "a folder":
        target.mkdir()
        (target / "keep.py").write_text("x = 1\n")
    else:
        target.symlink_to("model.py")
    commit_all(repo, f"engine.py is {kind} now")
    before = snapshot(repo)
    _, preview = update_one_repo(tk, repo, "--dry-run")
    code, result = update_one_repo(tk, repo)
    assert code == 1 and preview["result"] == result["result"] == "refused"
    assert preview["reason"] == result["reason"]
    assert f"engine.py is {kind} here" in result["reason"]
    assert snapshot(repo) == before


def test_plain_copier_update_needs_no_trust(make_repo):
    repo = make_repo()
    edit_kept(repo)
    proc = plain_copier_update(repo, "--vcs-ref", NEW)
    assert proc.returncode == 0, proc.stderr
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert (repo / "configs" / "default.yaml").read_text().endswith("# tuned by the author\n")


@pytest.mark.slow  # twenty real copier updates: tens of seconds on two cores
def test_fleet_of_twenty_mixed_repos(make_repo, tk):
    breakers = {
        "kept": edit_kept,
        "conflict": edit_pyproject,
        "added": add_notes,
        "deleted": delete_license,
        "plain": lambda repo: None,
    }
    expected = {}
    for index in range(20):
        kind = list(breakers) + ["dirty", "no_answers", "latest"]
        kind = kind[index % len(kind)]
        repo = make_repo(f"{index:02d}-{kind}")
        if kind in breakers:
            breakers[kind](repo)
            expected[repo.name] = "conflicts" if kind == "conflict" else "updated"
        elif kind == "dirty":
            (repo / "README.md").write_text("dirty\n")
            expected[repo.name] = "refused"
        elif kind == "no_answers":
            answers = repo / ".copier-answers.yml"
            answers.write_text(answers.read_text().replace("_src_path", "_source"))
            commit_all(repo, "break the answers")
            expected[repo.name] = "refused"
        else:
            answers = repo / ".copier-answers.yml"
            answers.write_text(answers.read_text().replace(OLD, NEW))
            commit_all(repo, "pretend to be at the latest")
            expected[repo.name] = "up to date"
    (make_repo.fleet / "not-a-repo").mkdir()  # no answers file: not part of the fleet
    code, out, _ = tk("update", make_repo.fleet, "--jobs", "2", "--json")
    assert code == 1
    results = results_by_repo(out)
    reasons = {name: r["reason"] for name, r in results.items() if r["result"] == "failed"}
    assert {name: r["result"] for name, r in results.items()} == expected, reasons
    for name, result in results.items():
        if result["result"] == "updated":
            assert (make_repo.fleet / name / NEW_FILE).exists(), name
        if name.endswith("-conflict"):
            assert result["conflicts"] == ["pyproject.toml"]
        if name.endswith("-deleted"):
            assert result["kept_deleted"] == ["LICENSE"]


def test_unreachable_template_fails_that_repo_only(make_repo, tk, tmp_path):
    lost, fine = make_repo("lost"), make_repo("fine")
    answers = lost / ".copier-answers.yml"
    text = answers.read_text()
    src = next(line for line in text.splitlines() if line.startswith("_src_path"))
    answers.write_text(text.replace(src, f"_src_path: file://{tmp_path}/gone.git"))
    commit_all(lost, "point at a template that is gone")
    before = snapshot(lost)
    code, out, _ = tk("update", make_repo.fleet, "--json")
    results = results_by_repo(out)
    assert code == 1
    assert results["lost"]["result"] == "failed"
    # git's whole reason, not only its last line.
    reason = results["lost"]["reason"]
    assert "Cannot fetch the template" in reason and "gone.git" in reason
    assert "does not appear to be a git repository" in reason
    assert "Could not read from remote repository" in reason
    assert results["fine"]["result"] == "updated"
    assert snapshot(lost) == before
    assert (fine / NEW_FILE).exists()


def test_dry_run_lists_what_would_change(make_repo, tk):
    repo = make_repo()
    before = snapshot(repo)
    code, out, _ = tk("update", repo, "--dry-run")
    assert code == 0
    assert "would change " in out and NEW_FILE in out
    assert snapshot(repo) == before


def test_the_templates_suggestions_stay_readable_after_the_update(make_repo, tk):
    """The template's change to a file that is the author's is printed under the table of a
    real update too (and, with --branch, kept in the commit message): after the update, --json
    says "up to date" and no longer has it."""
    repo = make_repo()
    code, out, _err = tk("update", repo, "--to", NEW)
    assert code == 0
    assert "The template's changes to your own files, not applied" in out
    assert f"+# Handwritten Digits with a CNN{TITLE_SUFFIX}" in out
    assert out.rstrip().splitlines()[-2:] == [
        "1 repo updated.",
        "Updated repos have uncommitted changes: review them (git diff) and commit.",
    ]


def test_the_closing_line_counts_repos_in_words(make_repo, tk):
    """One repo is "1 repo", a dry run says what "would be"."""
    for name in ("a", "b"):
        make_repo(name)
    code, out, _err = tk("update", make_repo.fleet, "--to", NEW, "--dry-run")
    assert code == 0
    assert out.rstrip().splitlines()[-1] == "2 repos would be updated."
