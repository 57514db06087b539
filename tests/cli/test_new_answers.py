"""`tutorkit new` and the answers it takes: package names that cannot work are refused in one
sentence; the author's GitHub name (git config github.user, else gh) is offered as the default
owner, and without either, or with an invalid one, the placeholder stays and nothing fails."""

from __future__ import annotations

import os

import pytest
from support import copier_answers


@pytest.fixture
def template_url(template, monkeypatch):
    monkeypatch.setenv("TUTORKIT_TEMPLATE_URL", template)


@pytest.fixture
def github_user(tmp_path, monkeypatch, template_url):
    """``github_user(name)``: a global git config that names ``name`` as github.user."""

    def set_user(name: str) -> None:
        config = tmp_path / "gitconfig"
        original = os.environ["GIT_CONFIG_GLOBAL"]
        config.write_text(open(original).read() + f"[github]\n\tuser = {name}\n")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))

    return set_user


@pytest.fixture
def gh(tmp_path, monkeypatch, template_url):
    """``gh(script)``: a ``gh`` command on PATH that runs the shell ``script``."""

    def install(script: str) -> None:
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        (folder / "gh").write_text(f"#!/bin/sh\n{script}\n")
        (folder / "gh").chmod(0o755)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")

    return install


def owner_of_new_repo(tk, tmp_path, *args):
    dest = tmp_path / "repo"
    code, _, err = tk("new", dest, "--defaults", *args)
    assert code == 0, err
    return copier_answers(dest)["github_owner"]


def test_git_config_github_user_is_the_default_owner(tk, tmp_path, github_user):
    github_user("ada-lab")
    assert owner_of_new_repo(tk, tmp_path) == "ada-lab"
    assert "github.com/ada-lab/" in (tmp_path / "repo" / "README.md").read_text()


def test_an_explicit_owner_wins(tk, tmp_path, github_user):
    github_user("ada-lab")
    assert owner_of_new_repo(tk, tmp_path, "--data", "github_owner=grace") == "grace"


def test_gh_is_asked_when_git_config_has_no_user(tk, tmp_path, gh):
    gh('[ "$1 $2" = "api user" ] && echo octo-cat')
    assert owner_of_new_repo(tk, tmp_path) == "octo-cat"


@pytest.mark.parametrize("script", ["echo 'not logged in' >&2; exit 4", "echo 'two words'"])
def test_without_a_valid_name_the_placeholder_stays(tk, tmp_path, gh, script):
    gh(script)
    assert owner_of_new_repo(tk, tmp_path) == "your-github-name"


def test_an_invalid_git_config_user_is_ignored(tk, tmp_path, github_user):
    github_user("not/a-name")
    assert owner_of_new_repo(tk, tmp_path) == "your-github-name"


@pytest.mark.parametrize(
    "package, message",
    [
        ("logging", "is a module of Python's standard library"),
        ("email", "is a module of Python's standard library"),
        ("digits_", "cannot be installed by pip"),
        ("_digits", "cannot be installed by pip"),
    ],
)
def test_package_names_that_cannot_work_are_refused(tk, tmp_path, template_url, package, message):
    dest = tmp_path / "repo"
    code, out, err = tk("new", dest, "--defaults", "--data", f"package_name={package}")
    assert code != 0 and out == ""
    assert err.startswith("tutorkit: error: ") and f'package name "{package}" ' in err
    assert message in err
    assert err.count("\n") == 1 and err.rstrip().endswith("nothing was written.")
    assert not dest.exists()
