"""The suite's own timing rule: what installs or executes a generated repo is marked slow.

tests/conftest.py enforces it twice: at collection (a test that asks for an installing fixture
without the mark is an error) and at run time (a test without the mark that makes a virtual
environment with pip in it fails). These tests show both guards at work.
"""

from __future__ import annotations

import venv

import pytest
from support import INSTALLING_FIXTURES


def test_an_install_outside_the_slow_mark_fails(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="not marked slow made a virtual environment"):
        venv.EnvBuilder(with_pip=True).create(tmp_path / "env")
    assert not (tmp_path / "env").exists()


def test_a_tiny_environment_without_pip_is_not_an_install(tmp_path):
    venv.create(tmp_path / "env", with_pip=False)
    assert (tmp_path / "env" / "bin" / "python").exists()


def test_every_test_that_asks_for_an_installed_repo_is_slow(request):
    """The collection guard's rule, over this session's own items."""
    session = request.session
    asking = [i for i in session.items if INSTALLING_FIXTURES & set(getattr(i, "fixturenames", ()))]
    assert all(item.get_closest_marker("slow") for item in asking)
