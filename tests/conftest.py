"""Fixtures shared by every test: isolated git, the tagged template, rendered + installed repos."""

from __future__ import annotations

import os
import threading
import venv
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from support import (
    FRAMEWORKS,
    INSTALLABLE,
    INSTALLING_FIXTURES,
    TEMPLATE_TAG,
    InstalledRepo,
    copy_template,
    git,
    install,
)

# The timing rule of this suite: a test that installs or executes a generated repo is marked
# `slow`, so that `pytest -m "not slow"` stays near three minutes on two cores. Two guards:
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
        # The background installs of install_early are the session's, not this test's.
        if self.with_pip and threading.current_thread() is threading.main_thread():
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
        mp.setenv("TUTORKIT_CACHE_DIR", str(home / "tutorkit-cache"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.delenv("TUTORKIT_TEMPLATE_URL", raising=False)
        mp.delenv("COLUMNS", raising=False)  # piped tables are 200 wide unless a test says
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
def installations(tmp_path_factory, render):
    """``installations(name)``: a rendered repo installed in its own venv, once per session
    (``name``: a framework, or ``text-classification``; see INSTALLABLE in support.py).

    ``installations.start(name)`` renders the repo and starts its install in a background
    thread (pip is its own process), one install at a time; the call waits for it.
    """
    pool = ThreadPoolExecutor(max_workers=1)  # two cores: one for pip, one for the tests
    started: dict[str, Future] = {}

    def start(name: str) -> Future:
        if name not in started:
            root = tmp_path_factory.mktemp(f"installed-{name}")
            repo = render(root / "repo", **INSTALLABLE[name])  # Copier, in this thread
            started[name] = pool.submit(install, repo, root / "venv", dict(os.environ))
        return started[name]

    def get(name: str) -> InstalledRepo:
        return start(name).result()

    get.start = start
    yield get
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def install_early(request):
    """When the selected tests will need installed repos, start installing them at once (both
    frameworks, and the text member when a test asks for ``text_installed``): pip works while
    the tests that come first run (a minute or two of the slow suite)."""
    needs = [set(getattr(item, "fixturenames", ())) for item in request.session.items]
    framework_fixtures = INSTALLING_FIXTURES - {"text_installed"}
    names = []
    if any(framework_fixtures & fixtures for fixtures in needs if "text_installed" not in fixtures):
        names += FRAMEWORKS
    if any("text_installed" in fixtures for fixtures in needs):
        names.append("text-classification")
    for name in names:
        request.getfixturevalue("installations").start(name)
