"""The answers file and where it says the template lives (TK101, TK110)."""

from __future__ import annotations

import re

from tutorkit.checks.facts import Facts, Skip
from tutorkit.checks.rule import Rule
from tutorkit.mirror import expand_shortcut
from tutorkit.repos import ANSWERS_FILE
from tutorkit.template import DEFAULT_TEMPLATE_URL, known_frameworks, parse_version, template_url

URL_PATTERN = re.compile(r"^(https?|ssh|git|file)://\S+$|^git@[^:\s]+:\S+$|^g[hl]:\S+$")


class AnswersValid(Rule):
    """The answers file names the template's git URL, a version tag and a known framework."""

    id = "TK101"
    # One fix for every layout: a broken answers file no longer says which layout it was.
    fix = (
        "Restore .copier-answers.yml from git history (git log -- .copier-answers.yml, then git "
        "checkout COMMIT -- .copier-answers.yml); if it never was right, recreate a starter with "
        "`tutorkit new`, or remove the files adopt added, commit, and `tutorkit adopt` again."
    )

    def problems(self, facts: Facts) -> list[str]:
        if facts.answers_problem:
            return [facts.answers_problem]
        data = facts.answers
        found = []
        src, commit = data.get("_src_path"), data.get("_commit")
        if not isinstance(src, str) or not URL_PATTERN.match(src):
            found.append(f"_src_path {src!r} is not a git URL (plain `copier update` needs one)")
        if not isinstance(commit, str) or parse_version(commit) is None:
            found.append(f"_commit {commit!r} is not a version tag such as v1.2.0")
        frameworks = known_frameworks()
        if data.get("framework") not in frameworks:
            found.append(f"framework {data.get('framework')!r} is not one of {frameworks}")
        if facts.layout == "":
            found.append(f"layout {data.get('layout')!r} is not one of starter, infrastructure")
        return found


def _url_to_record() -> str:
    """The template URL to suggest: the configured one, unless it has a problem itself."""
    url = template_url()
    return (
        url if source_problem(url, suggest=DEFAULT_TEMPLATE_URL) is None else DEFAULT_TEMPLATE_URL
    )


def source_problem(src: str, suggest: str = "") -> str | None:
    """Why Copier or Renovate cannot update from template source ``src`` on every machine."""
    suggest = suggest or _url_to_record()
    if url := expand_shortcut(src):
        return (
            f"_src_path {src!r} is a Copier shortcut that git cannot read (Renovate's copier "
            f"manager passes it to `git ls-remote`): record {url}"
        )
    if src.startswith("git://"):
        return (
            f"_src_path {src!r} uses git's unauthenticated protocol (GitHub stopped serving it "
            f"in 2022): record https://{src.removeprefix('git://')}"
        )
    if src.startswith(("file://", "git+file://")):
        where = f"{src!r} is a folder on one machine"
        if not re.search(r"\.git/?$", src) and not src.startswith("git+"):
            where += ", and without `.git` at its end Copier reads it as a plain folder, not git"
        return f"_src_path {where}: record the template's https URL ({suggest})"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", src) and not re.match(
        r"^[^/\s]+@[^:\s]+:", src
    ):
        kind = "an absolute" if src.startswith("/") else "a relative"
        return (
            f"_src_path {src!r} is {kind} local path, which no other machine can update from: "
            f"record the template's https URL ({suggest})"
        )
    return None


class SourceUpdatable(Rule):
    """The answers file names the template by a git URL that every machine can update from."""

    id = "TK110"
    severity = "warn"
    fix = (
        "Set `_src_path` in .copier-answers.yml to the template's https git URL (the rule names "
        "it), commit, and check with `copier update --defaults --skip-answered`."
    )

    def problems(self, facts: Facts) -> list[str]:
        src = facts.answers.get("_src_path")
        if not isinstance(src, str) or not src:
            raise Skip(f"{ANSWERS_FILE} names no template (see TK101)")
        problem = source_problem(src)
        return [problem] if problem else []
