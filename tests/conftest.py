"""Fixtures shared by every test: isolated git, the tagged template, rendered + installed repos."""

from __future__ import annotations

import venv
from collections.abc import Callable
from pathlib import Path

import pytest
from support import INSTALLING_FIXTURES, TEMPLATE_TAG, InstalledRepo, copy_template, git, install

# The timing rule of this suite: a test that installs or executes a generated repo is marked
# `slow`, so that `pytest -m "not slow"` stays within two minutes on two cores. Two guards:
# a test that asks for these fixtures without the mark is a collection error, and a test
# without the mark that makes a virtual environment with pip in it (an install) fails.


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if INSTALLING_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(
            f"these tests install a generated repo but are not marked slow: {unmarked}"
        )


def _refuse_installs(create):
    def guarded(self, env_dir):
        if self.with_pip:
            pytest.fail(
                f"a test not marked slow made a virtual environment with pip ({env_dir}): "
                "installing is slow; mark the test @pytest.mark.slow (or use with_pip=False)"
            )
        return create(self, env_dir)

    return guarded


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.get_closest_marker("slow"):
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(venv.EnvBuilder, "create", _refuse_installs(venv.EnvBuilder.create))
        return (yield)


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


@pytest.fixture(scope="session")
def render(template_repo) -> Callable[..., Path]:
    """``render(dest, **answers)``: ``copier copy --defaults`` of the tagged template."""

    import copier  # not at module level: plumbum snapshots os.environ when copier is imported

    def _render(dest: Path, **answers) -> Path:
        copier.run_copy(
            str(template_repo),
            dest,
            data=answers,
            defaults=True,
            quiet=True,
            vcs_ref=TEMPLATE_TAG,
        )
        return dest

    return _render


@pytest.fixture(scope="session")
def installations(tmp_path_factory, render) -> Callable[[str], InstalledRepo]:
    """``installations(framework)``: a rendered repo installed in its own venv, once per session."""
    done: dict[str, InstalledRepo] = {}

    def get(framework: str) -> InstalledRepo:
        if framework not in done:
            root = tmp_path_factory.mktemp(f"installed-{framework}")
            done[framework] = install(render(root / "repo", framework=framework), root / "venv")
        return done[framework]

    return get
