"""Template URLs from answers files: the forms Copier clones are accepted, nothing else reaches git.

Pure functions of ``tutorkit.mirror``; the hostile answers files run through the whole CLI in
test_update_faults.py.
"""

from __future__ import annotations

import pytest

from tutorkit.errors import TutorkitError
from tutorkit.mirror import cache_dir, git_url


@pytest.mark.parametrize(
    ("src", "url"),
    [
        ("https://github.com/tutorkit/tutorkit.git", "https://github.com/tutorkit/tutorkit.git"),
        ("git+https://example.org/t.git", "https://example.org/t.git"),
        ("ssh://git@example.org:2222/t.git", "ssh://git@example.org:2222/t.git"),
        ("git@github.com:tutorkit/tutorkit.git", "git@github.com:tutorkit/tutorkit.git"),
        ("git://example.org/t.git", "git://example.org/t.git"),
        ("file:///srv/templates/tutorkit.git", "file:///srv/templates/tutorkit.git"),
        ("/srv/templates/tutorkit", "/srv/templates/tutorkit"),
        ("gh:tutorkit/tutorkit", "https://github.com/tutorkit/tutorkit.git"),
        ("gl:ada/template.git", "https://gitlab.com/ada/template.git"),
    ],
)
def test_the_forms_copier_clones_are_accepted(src, url):
    assert git_url(src) == url


@pytest.mark.parametrize(
    "src",
    [
        "--upload-pack=touch pwned;",
        "-c core.sshCommand=x",
        "ext::sh -c touch% pwned",
        "fd::17",
        "relative/template",
        "../template",
        "https://example.org/a b",
        "https://example.org/x\n--upload-pack=y",
        "host:path",
        "",
        None,
        42,
    ],
)
def test_anything_else_is_refused_before_git_sees_it(src):
    with pytest.raises(TutorkitError, match="_src_path|names no template"):
        git_url(src)


def test_the_cache_lives_where_the_docs_say(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORKIT_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TUTORKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tutorkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "tutorkit"
