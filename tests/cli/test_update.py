"""`tutorkit update` never loses an edit: real template tags, real repos, real Copier and git."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from cli_support import (
    NEW,
    NEW_FILE,
    NEW_FILE_TEXT,
    OLD,
    TITLE_SUFFIX,
    commit_all,
    conflict_blocks,
    first_heading,
    plain_copier_update,
    snapshot,
)
from support import git

USER_LINE = "# Notes the author added to the README, far from the title.\n"


def edit_kept(repo):
    """A user edit the template does not touch: a hyperparameter and a README paragraph."""
    config = repo / "configs" / "default.yaml"
    config.write_text(config.read_text().replace("epochs: 20", "epochs: 35"))
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\n" + USER_LINE)
    commit_all(repo, "Author edits")


def edit_title(repo):
    """A user edit of the very line v1.1.0 changes."""
    readme = repo / "README.md"
    text = readme.read_text()
    readme.write_text(text.replace(first_heading(text), "# My own title", 1))
    commit_all(repo, "Author retitles the README")


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


def results_by_repo(out: str) -> dict:
    return {r["repo"].rsplit("/", 1)[-1]: r for r in json.loads(out)}


def test_user_edit_the_template_does_not_touch_is_kept(make_repo, tk):
    repo = make_repo()
    edit_kept(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 0
    assert result["result"] == "updated"
    assert (result["from_version"], result["to_version"]) == (OLD, NEW)
    config_lines = (repo / "configs" / "default.yaml").read_text().splitlines()
    assert "  epochs: 35" in config_lines
    readme = (repo / "README.md").read_text().splitlines()
    assert readme[-1] == USER_LINE.strip()
    assert first_heading("\n".join(readme)).endswith(TITLE_SUFFIX)
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEW
    assert not conflict_blocks((repo / "README.md").read_text())


def test_user_edit_of_a_line_the_template_changes_is_a_reported_conflict(make_repo, tk):
    repo = make_repo()
    edit_title(repo)
    code, out, _ = tk("update", repo)
    assert code == 1
    assert "conflicts in README.md" in out
    text = (repo / "README.md").read_text()
    [block] = conflict_blocks(text)
    lines = block.splitlines()
    assert "# My own title" in lines
    assert any(line.startswith("# ") and line.endswith(TITLE_SUFFIX) for line in lines)
    assert (repo / NEW_FILE).exists()


def test_user_added_files_are_kept_and_template_added_files_appear(make_repo, tk):
    repo = make_repo()
    add_notes(repo)
    code, result = update_one_repo(tk, repo)
    assert code == 0, result
    assert (repo / "notes" / "ideas.md").read_text() == "ideas\n"
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert NEW_FILE in result["changed"]


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
        ("dirty", "uncommitted changes"),
        ("untracked", "uncommitted changes"),
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
    shown = git(repo, "show", f"template-v1.1:{NEW_FILE}")
    assert shown == NEW_FILE_TEXT.strip()
    assert "epochs: 35" in git(repo, "show", "template-v1.1:configs/default.yaml")
    assert git(repo, "log", "-1", "--format=%s", "template-v1.1") == (
        f"Update template from {OLD} to {NEW}"
    )
    # The same branch again is refused, nothing touched.
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "template-v1.1")
    assert (code, result["result"]) == (1, "refused")
    assert snapshot(repo) == before


def test_dry_run_reports_and_changes_nothing(make_repo, tk):
    repo = make_repo()
    edit_title(repo)
    before = snapshot(repo)
    code, out, _ = tk("update", repo, "--dry-run")
    assert code == 1
    assert "would have conflicts in README.md" in out
    assert snapshot(repo) == before


def test_plain_copier_update_needs_no_trust(make_repo, tmp_path):
    repo = make_repo()
    edit_kept(repo)
    proc = plain_copier_update(repo, "--vcs-ref", NEW)
    assert proc.returncode == 0, proc.stderr
    assert (repo / NEW_FILE).read_text() == NEW_FILE_TEXT
    assert "  epochs: 35" in (repo / "configs" / "default.yaml").read_text().splitlines()


@pytest.mark.slow  # twenty real copier updates: tens of seconds on two cores
def test_fleet_of_twenty_mixed_repos(make_repo, tk):
    breakers = {
        "kept": edit_kept,
        "conflict": edit_title,
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
            assert result["conflicts"] == ["README.md"]
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
    assert "Cannot list the tags of the template" in results["lost"]["reason"]
    assert results["fine"]["result"] == "updated"
    assert snapshot(lost) == before
    assert (fine / NEW_FILE).exists()


def test_branch_mode_with_a_conflict_commits_the_markers_on_the_branch_only(make_repo, tk):
    repo = make_repo()
    edit_title(repo)
    before = snapshot(repo)
    code, result = update_one_repo(tk, repo, "--branch", "tk-update")
    assert (code, result["result"], result["conflicts"]) == (1, "conflicts", ["README.md"])
    assert snapshot(repo) == {**before, "branches": git(repo, "branch", "--list")}
    [block] = conflict_blocks(git(repo, "show", "tk-update:README.md"))
    assert "# My own title" in block.splitlines()
    assert "Conflicts to resolve in: README.md" in git(
        repo, "log", "-1", "--format=%B", "tk-update"
    )


def test_dry_run_lists_what_would_change(make_repo, tk):
    repo = make_repo()
    before = snapshot(repo)
    code, out, _ = tk("update", repo, "--dry-run")
    assert code == 0
    assert f"would change {NEW_FILE}, README.md" in out
    assert snapshot(repo) == before
