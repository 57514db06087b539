"""TK110: `tutorkit check` warns, with the fix, on template sources that cannot be updated from.

Real generated repos (tests/cli/conftest.py) whose answers file records each kind of source.
"""

from __future__ import annotations

import json
import re

import pytest
from cli_support import commit_all

from tutorkit.template import DEFAULT_TEMPLATE_URL


def with_source(repo, src: str):
    answers = repo / ".copier-answers.yml"
    text = re.sub(r"^_src_path: .*$", f"_src_path: {src}", answers.read_text(), flags=re.M)
    answers.write_text(text)
    commit_all(repo, "Another template source")
    return repo


def check(tk, repo) -> tuple[int, dict]:
    code, out, _ = tk("check", repo, "--json")
    return code, {r["id"]: r for r in json.loads(out)}


@pytest.mark.parametrize(
    ("src", "says"),
    [
        ("gh:tutorkit/tutorkit", "record https://github.com/tutorkit/tutorkit.git"),
        ("gl:ada/tutorials-template", "record https://gitlab.com/ada/tutorials-template.git"),
        (
            "git://github.com/tutorkit/tutorkit.git",
            "record https://github.com/tutorkit/tutorkit.git",
        ),
        ("file:///srv/templates/tutorkit", "without `.git` at its end Copier reads it as a plain"),
        ("file:///srv/templates/tutorkit.git", "is a folder on one machine"),
    ],
)
def test_sources_copier_or_renovate_cannot_update_from_warn(make_repo, tk, src, says):
    code, results = check(tk, with_source(make_repo(), src))
    rule = results["TK110"]
    assert rule["result"] == "warn", rule
    (problem,) = rule["problems"]
    assert problem.startswith(f"_src_path {src!r}") and says in problem
    assert "_src_path" in rule["fix"] and rule["url"].endswith("/checks/#tk110")
    assert code == 0  # a warning alone leaves the exit status 0
    if not src.startswith(("gh:", "gl:", "git:")):
        assert DEFAULT_TEMPLATE_URL in problem


@pytest.mark.parametrize(
    ("src", "kind"), [("../tutorkit", "relative"), ("/srv/templates/tutorkit.git", "absolute")]
)
def test_a_local_path_warns_and_fails_tk101(make_repo, tk, src, kind):
    """A path is not a git URL at all (TK101 fails); TK110 says what to record instead."""
    code, results = check(tk, with_source(make_repo(), src))
    assert results["TK110"]["result"] == "warn"
    assert (
        f"is {'an' if kind == 'absolute' else 'a'} {kind} local path"
        in results["TK110"]["problems"][0]
    )
    assert results["TK101"]["result"] == "fail" and code == 1


@pytest.mark.parametrize(
    "src",
    [DEFAULT_TEMPLATE_URL, "git@github.com:tutorkit/tutorkit.git", "ssh://git@github.com/t/t.git"],
)
def test_git_urls_every_machine_can_reach_pass(make_repo, tk, src):
    code, results = check(tk, with_source(make_repo(), src))
    assert results["TK110"]["result"] == "pass" and results["TK110"]["problems"] == []
    assert code == 0


def test_an_answers_file_without_a_source_skips(make_repo, tk):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"^_src_path: .*\n", "", answers.read_text(), flags=re.M))
    commit_all(repo, "No source")
    _, results = check(tk, repo)
    assert results["TK110"]["result"] == "skip" and "see TK101" in results["TK110"]["problems"][0]


@pytest.mark.parametrize(
    ("configured", "suggested"),
    [
        ("https://git.example.org/me/tutorkit.git", "https://git.example.org/me/tutorkit.git"),
        ("file:///srv/templates/tutorkit.git", DEFAULT_TEMPLATE_URL),  # itself local: not that
    ],
)
def test_the_url_to_record_is_the_configured_template_url(
    make_repo, tk, monkeypatch, configured, suggested
):
    """TUTORKIT_TEMPLATE_URL names the canonical URL, unless it is local itself."""
    monkeypatch.setenv("TUTORKIT_TEMPLATE_URL", configured)
    _, results = check(tk, with_source(make_repo(), "file:///elsewhere/tutorkit.git"))
    assert results["TK110"]["problems"][0].endswith(
        f"record the template's https URL ({suggested})"
    )
