"""Fixtures shared by every test: an isolated git, and a tagged git copy of the template."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import TEMPLATE_TAG, copy_template, git


@pytest.fixture(scope="session", autouse=True)
def isolated_git(tmp_path_factory):
    """A git and Copier configuration that belongs to the test session only."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Tutorkit Tests\n\temail = tests@tutorkit.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("COPIER_CACHE_DIR", str(home / "copier-cache"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.delenv("TUTORKIT_TEMPLATE_URL", raising=False)
        yield home


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory, isolated_git) -> Path:
    """A git copy of this checkout's template, tagged with the current version."""
    repo = copy_template(tmp_path_factory.mktemp("upstream") / "tutorkit")
    git(repo, "tag", TEMPLATE_TAG)
    return repo
