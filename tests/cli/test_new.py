"""`tutorkit new`: offline from the embedded template, recorded as the canonical git URL and tag."""

from __future__ import annotations

import pytest
import yaml
from cli_support import NEW, NEW_FILE, OLD, plain_copier_update, snapshot
from support import TEMPLATE_TAG, git

from tutorkit.template import DEFAULT_TEMPLATE_URL


@pytest.fixture
def template_url(template, monkeypatch):
    monkeypatch.setenv("TUTORKIT_TEMPLATE_URL", template)
    return template


def test_new_records_the_git_url_and_tag_and_makes_a_commit(tmp_path, tk, template_url):
    dest = tmp_path / "digits"
    code, out, err = tk("new", dest, "--framework", "pytorch", "--data", "project_title=Digits")
    assert (code, err) == (0, "")
    assert f"Created {dest}" in out
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == template_url
    assert answers["_commit"] == TEMPLATE_TAG
    assert answers["project_title"] == "Digits"
    assert answers["package_name"] == "digits"
    assert git(dest, "status", "--porcelain") == ""
    assert git(dest, "log", "--format=%s") == f"Create from tutorkit {TEMPLATE_TAG}"
    assert git(dest, "branch", "--show-current") == "main"


def test_new_answers_file_matches_copier_copy_byte_for_byte(tmp_path, tk, template_url):
    """The rewrite touches only _src_path and _commit: same bytes as `copier copy` of the tag,
    given the defaults tutorkit offers (the repo name from DEST, the author from git)."""
    import copier

    tk("new", tmp_path / "by-tutorkit", "--defaults")
    offered = {"repo_name": "by-tutorkit", "author_name": "Tutorkit Tests"}
    copier.run_copy(
        template_url, tmp_path / "by-copier", vcs_ref=TEMPLATE_TAG, defaults=True,
        user_defaults=offered,
    )  # fmt: skip
    ours = (tmp_path / "by-tutorkit" / ".copier-answers.yml").read_text()
    theirs = (tmp_path / "by-copier" / ".copier-answers.yml").read_text()
    assert ours == theirs
    assert snapshot(tmp_path / "by-tutorkit")["files"] == {
        **snapshot(tmp_path / "by-copier")["files"]
    }


@pytest.mark.slow  # plain copier update in a subprocess
def test_plain_copier_update_works_after_new(tmp_path, tk, template_url):
    dest = tmp_path / "digits"
    assert tk("new", dest, "--defaults")[0] == 0
    proc = plain_copier_update(dest, "--vcs-ref", NEW)
    assert proc.returncode == 0, proc.stderr
    assert (dest / NEW_FILE).exists()
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == NEW


def test_template_url_option_wins_and_default_is_canonical(tmp_path, tk, monkeypatch):
    monkeypatch.delenv("TUTORKIT_TEMPLATE_URL", raising=False)
    tk("new", tmp_path / "a", "--defaults")
    tk("new", tmp_path / "b", "--defaults", "--template-url", "https://example.org/fork.git")
    read = lambda name: yaml.safe_load((tmp_path / name / ".copier-answers.yml").read_text())  # noqa: E731
    assert read("a")["_src_path"] == DEFAULT_TEMPLATE_URL
    assert read("b")["_src_path"] == "https://example.org/fork.git"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "package_name=Not Valid"], "not a valid Python package name"),
        (["--framework", "jax"], "jax"),
        (["--data", "no_such_question=1"], 'asks no question "no_such_question"'),
        (["--data", "novalue"], "not of the form key=value"),
    ],
)
def test_bad_answers_are_refused_before_anything_is_written(tmp_path, tk, args, message):
    dest = tmp_path / "repo"
    code, out, err = tk("new", dest, "--defaults", *args)
    assert code == 2  # a usage error, as the help says
    assert out == ""
    assert err.startswith("tutorkit: error: ") and message in err
    assert err.count("\n") == 1  # one sentence, no traceback
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # no staging leftovers either


def test_new_into_a_non_empty_folder_refuses(tmp_path, tk):
    dest = tmp_path / "repo"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine\n")
    code, _, err = tk("new", dest, "--defaults")
    assert code == 1
    assert "already exists and is not empty" in err
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_new_into_an_empty_folder_works(tmp_path, tk):
    dest = tmp_path / "repo"
    dest.mkdir()
    assert tk("new", dest, "--defaults")[0] == 0
    assert (dest / ".copier-answers.yml").is_file()


def test_new_offers_the_folder_name_and_gits_author(tmp_path, tk, template_url):
    """repo_name defaults to DEST's folder name (the badges point at the repo the author pushes),
    author_name to git's user.name; answers given on the command line win."""
    code, _out, _err = tk("new", tmp_path / "my-digits", "--defaults")
    assert code == 0
    answers = yaml.safe_load((tmp_path / "my-digits" / ".copier-answers.yml").read_text())
    assert (answers["repo_name"], answers["author_name"]) == ("my-digits", "Tutorkit Tests")
    code, _out, _err = tk(
        "new", tmp_path / "other", "--defaults", "--data", "repo_name=chosen",
        "--data", "author_name=Ada Lovelace",
    )  # fmt: skip
    answers = yaml.safe_load((tmp_path / "other" / ".copier-answers.yml").read_text())
    assert (answers["repo_name"], answers["author_name"]) == ("chosen", "Ada Lovelace")


@pytest.mark.slow  # a plain copier update in a subprocess
def test_the_readmes_owner_fix_leaves_no_placeholder_and_keeps_the_version(make_repo):
    """The README's "Author, before you publish" box, followed as written: its copier command,
    pasted from the README, then the two files it names by hand. No file names the placeholder
    owner afterwards, and the repo stays at its template version."""
    import re
    import subprocess
    import sys

    repo = make_repo()
    readme = (repo / "README.md").read_text()
    (command,) = re.findall(r"`(copier update [^`]*github_owner=YOUR-NAME)`", readme)
    readme = readme.replace("\n> ", " ")
    args = command.replace("YOUR-NAME", "ada-lab").split()[1:]
    done = subprocess.run(
        [sys.executable, "-m", "copier", *args], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    named = r"replace\s+it with your GitHub name in `([^`]+)` and `([^`]+)`"
    for name in re.findall(named, readme)[0]:
        path = repo / name
        path.write_text(path.read_text().replace("your-github-name", "ada-lab"))
    git(repo, "commit", "--quiet", "-am", "My name everywhere")
    left = subprocess.run(
        ["git", "grep", "-l", "--untracked", "your-github-name", "--", "."],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    # Only the guide's own instruction still spells the placeholder ("If the badges name ...").
    assert left.stdout == "AUTHORING.md\n"
    assert (repo / "AUTHORING.md").read_text().count("your-github-name") == 1
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["github_owner"], answers["_commit"]) == ("ada-lab", OLD)


def test_new_and_adopt_commit_as_tutorkit_where_git_has_no_identity(tmp_path):
    """No user.name or user.email anywhere (and git told not to guess one): the commit that
    `new` and `adopt` make is tutorkit's own, instead of a failure."""
    from cli_support import tk_subprocess

    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n[init]\n\tdefaultBranch = main\n")
    env = {"GIT_CONFIG_GLOBAL": str(config)}
    made = tk_subprocess("new", tmp_path / "digits", "--defaults", env=env)
    assert made.returncode == 0, made.stderr
    tutorial = tmp_path / "tutorial"
    (tutorial / "notebooks").mkdir(parents=True)
    (tutorial / "notebooks" / "a.py").write_text("import torch\n")
    git(tmp_path, "init", "--quiet", str(tutorial))
    git(tutorial, "add", "--all")
    git(tutorial, "commit", "--quiet", "-m", "A tutorial")  # the suite's own identity
    adopted = tk_subprocess("adopt", tutorial, env=env)
    assert adopted.returncode == 0, adopted.stderr
    for repo in (tmp_path / "digits", tutorial):
        assert git(repo, "log", "-1", "--format=%an <%ae>") == "tutorkit <tutorkit@localhost>"
