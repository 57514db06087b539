"""``tutorkit adopt``: bring a tutorial repo that tutorkit never made under the template.

Authors already have dozens of tutorial repos: notebooks with outputs, spaces in file names,
nested folders, no environment files, no CI. ``adopt`` infers the template's answers from what
the repo shows (its README, git remote, notebooks' imports, Python version file, first author),
takes the rest from ``--data``/``--framework``, and renders the template's *infrastructure*
layout (CI workflows, pre-commit, the answers file; never the starter's notebook, package or
README) into the repo as new files, in one commit, through the one writer (``land``): under the
repo's lock, all or nothing, a kill -9 undone by the next tutorkit command. None of the
author's files changes, except the README's badge line with ``--badge``, and only then.
Afterwards ``tutorkit status`` and ``update``, plain ``copier update`` and Renovate treat the
repo like any other: the answers file records ``layout: infrastructure``, so updates bring
only template changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError, UsageError
from tutorkit.git import is_git_root, operation_in_progress, run_git
from tutorkit.github import NAME, OWNER, origin_repo
from tutorkit.land import (
    Snapshot,
    Write,
    commit_of,
    index_lines,
    land,
    recover,
    repo_lock,
    work_folder,
)
from tutorkit.merge import digest
from tutorkit.mirror import checked_template_url
from tutorkit.readme import summarise
from tutorkit.render import parse_data, render, rendered_files, unversioned
from tutorkit.repos import ANSWERS_FILE, code_of, repo_files, repo_text, write_answers_source
from tutorkit.template import current_tag, embedded_template_dir
from tutorkit.untrusted import load_yaml

IMPORTS = {
    "pytorch": re.compile(r"^\s*(?:import|from)\s+(?:torch|torchvision|lightning)\b", re.M),
    "tensorflow": re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras)\b", re.M),
}
PYTHONS = ("3.11", "3.12", "3.13")


@dataclass
class Adoption:
    """What ``adopt`` did: the answers it used (and where each came from), the files it added."""

    repo: Path
    answers: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    commit: str = ""

    def to_json(self) -> dict:
        return {
            "repo": str(self.repo),
            "answers": self.answers,
            "sources": self.sources,
            "added": self.added,
            "changed": self.changed,
            "commit": self.commit,
        }


def infer_framework(repo: Path) -> tuple[str, str]:
    """The framework most files import, and what showed it ("" when none or a tie)."""
    counts = {name: 0 for name in IMPORTS}
    for path in repo_files(repo, ".ipynb") + repo_files(repo, ".py"):
        code = code_of(repo, path)
        for name, pattern in IMPORTS.items():
            counts[name] += bool(pattern.search(code))
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, n), (_, runner_up) = ranked[0], ranked[1]
    if n == 0 or n == runner_up:
        return "", ""
    return best, f"imports in {n} notebook(s) and script(s)"


README_NAMES = ("readme.md", "readme.markdown", "readme.rst", "readme.txt", "readme")


def _readme(repo: Path) -> Path | None:
    """The repo's README (any case; Markdown before reStructuredText before plain text)."""
    found = {p.name.lower(): p for p in repo.iterdir() if p.name.lower() in README_NAMES}
    return next((found[name] for name in README_NAMES if name in found), None)


def infer_title_and_description(repo: Path) -> tuple[str, str, str]:
    """The README's first heading (any level) and first paragraph, and the README's name."""
    readme = _readme(repo)
    if readme is None:
        return "", "", ""
    text = repo_text(repo, readme)
    if not text:
        return "", "", ""  # a link out of the repo, or too large: the folder's name it is
    found = summarise(text)
    return found.title, found.description, readme.name


def infer_python(repo: Path) -> tuple[str, str]:
    """The Python version the repo names, if it is one the template offers."""
    candidates = [
        (name, repo_text(repo, repo / name)) for name in (".python-version", "runtime.txt")
    ]
    match = re.search(
        r"requires-python\s*=\s*[\"']([^\"']+)", repo_text(repo, repo / "pyproject.toml")
    )
    if match:
        candidates.append(("pyproject.toml", match.group(1)))
    for source, text in candidates:
        match = re.search(r"3\.(\d+)", text)
        if match and f"3.{match.group(1)}" in PYTHONS:
            return f"3.{match.group(1)}", source
    return "", ""


def infer_license(repo: Path) -> tuple[str, str]:
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"):
        text = repo_text(repo, repo / name)
        if text:
            if "Apache License" in text:
                return "Apache-2.0", name
            if "Permission is hereby granted, free of charge" in text:
                return "MIT", name
            if "Redistribution and use in source and binary forms" in text and "3." in text:
                return "BSD-3-Clause", name
    return "", ""


def infer(repo: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Answers the repo shows, and where each came from."""
    answers, sources = {}, {}

    def found(key: str, value: str, source: str) -> None:
        if value:
            answers[key], sources[key] = value, source

    title, description, readme = infer_title_and_description(repo)
    found("project_title", title, f"{readme}'s first heading")
    found("description", description, f"{readme}'s first paragraph")
    if "project_title" not in answers:
        words = re.split(r"[-_\s]+", repo.name)
        found("project_title", " ".join(w.capitalize() for w in words if w), "the folder's name")
    origin = origin_repo(repo)
    if origin and OWNER.match(origin[0]) and NAME.match(origin[1]):
        found("github_owner", origin[0], "the origin remote")
        found("repo_name", origin[1], "the origin remote")
    else:
        found("repo_name", repo.name if NAME.match(repo.name) else "", "the folder's name")
    found(*(("framework", *infer_framework(repo))))
    found(*(("python_version", *infer_python(repo))))
    found(*(("license", *infer_license(repo))))
    first = run_git(["-C", str(repo), "log", "--reverse", "--format=%an"]).stdout.splitlines()
    found("author_name", first[0].strip() if first else "", "the first commit's author")
    branch = run_git(["-C", str(repo), "symbolic-ref", "--quiet", "--short", "HEAD"]).stdout.strip()
    found("default_branch", branch, "the current branch")
    return answers, sources


def _refusal(repo: Path) -> str:
    """Why ``repo`` cannot be adopted at all ("" when it may be): checked before the lock."""
    if not repo.is_dir():
        return f"{repo} is not a folder: give the path of a tutorial repo"
    if not is_git_root(repo):
        return f"{repo} is not the top folder of a git repository: run git init and commit first"
    if run_git(["-C", str(repo), "rev-parse", "--verify", "--quiet", "HEAD"]).returncode != 0:
        return f"{repo} has no commit yet: commit the tutorial first"
    return ""


def _unfit(repo: Path, snapshot: Snapshot) -> str:
    """Why ``repo``, as it is now (under the lock), cannot be adopted ("" when it can)."""
    if (repo / ANSWERS_FILE).exists():
        return f"{repo} already has {ANSWERS_FILE}: it is a tutorkit repo (tutorkit update it)"
    operation = operation_in_progress(repo)
    if operation:
        return f"{repo} is in the middle of {operation}: finish or abort it first"
    dirty = snapshot.uncommitted()
    if dirty:
        return (
            f"{repo} has uncommitted changes ({', '.join(dirty[:3])}): commit or stash them first"
        )
    return ""


def _badge_line(answers: dict) -> str:
    workflow = (
        f"https://github.com/{answers['github_owner']}/{answers['repo_name']}"
        "/actions/workflows/notebooks.yml"
    )
    return f"[![notebooks]({workflow}/badge.svg)]({workflow})"


def _answers(repo: Path, framework: str | None, data_pairs: list[str]) -> tuple[dict, dict]:
    """The answers to render with (inferred, then --data and --framework) and their sources."""
    given = parse_data(list(data_pairs), embedded_template_dir())
    if framework:
        given["framework"] = framework
    inferred, sources = infer(repo)
    answers = {**inferred, **given, "layout": "infrastructure"}
    for key in given:
        sources[key] = "--framework" if key == "framework" and framework else "--data"
    sources["layout"] = "tutorkit adopt"
    if "framework" not in answers:
        raise UsageError(
            "The notebooks' imports do not tell PyTorch from TensorFlow: "
            "pass --framework pytorch or --framework tensorflow."
        )
    return answers, sources


def adopt(
    repo_arg: str,
    *,
    framework: str | None = None,
    data_pairs: list[str] = (),
    url_override: str | None = None,
    badge: bool = False,
) -> Adoption:
    """Add the template's infrastructure to ``repo_arg`` in one commit; change nothing else."""
    repo = Path(repo_arg).expanduser().resolve()
    why = _refusal(repo)
    if why:
        raise TutorkitError(why + ".")
    url = checked_template_url(url_override)
    answers, sources = _answers(repo, framework, data_pairs)
    readme = _readme(repo) if badge else None
    if badge and (readme is None or readme.suffix != ".md" or "github_owner" not in answers):
        raise UsageError(
            "--badge needs a README.md and a github.com origin remote (or --data github_owner=...)."
        )
    result = Adoption(repo, answers=dict(answers), sources=sources)
    with repo_lock(repo) as folder:
        recover(repo, folder)  # a killed adopt (or update) is undone first
        snapshot = Snapshot.take(repo)
        why = _unfit(repo, snapshot)
        if why:
            raise TutorkitError(why + ".")
        with work_folder(folder) as work:
            writes = _infrastructure(repo, work, answers, url, result)
            if readme is not None:
                writes.append(_badge_write(repo, readme, _badge_line(result.answers)))
                result.changed.append(readme.name)
            message = f"Adopt the tutorkit template {current_tag()} (infrastructure only)"
            commit = commit_of(repo, work, writes, message)
            land(repo, folder, snapshot, writes, index_lines(repo, writes), commit=commit)
    result.commit = commit
    return result


def _infrastructure(repo: Path, work: Path, answers: dict, url: str, result: Adoption) -> list:
    """The new files of the infrastructure layout, rendered in ``work``, as writes."""
    rendered = work / "render"
    source = unversioned(embedded_template_dir(), work / "template")
    try:
        render(source, rendered, answers)
    except TutorkitError as exc:
        raise UsageError(f"{exc}; nothing was changed.") from exc
    write_answers_source(rendered / ANSWERS_FILE, url, current_tag())
    files = rendered_files(rendered)
    taken = sorted(path for path in files if os.path.lexists(repo / path))
    if taken:
        raise TutorkitError(
            f"{repo} already has {', '.join(taken)}, which the template provides: rename or "
            "remove it, commit, and adopt again; nothing was changed."
        )
    result.added = sorted(files)
    recorded = load_yaml(files[ANSWERS_FILE][0], ANSWERS_FILE) or {}
    result.answers = {str(k): str(v) for k, v in recorded.items()}
    return [Write(path, content, executable) for path, (content, executable) in files.items()]


def _badge_write(repo: Path, readme: Path, line: str) -> Write:
    """The README with the CI badge right under its first heading, every other byte kept (line
    endings and encoding included)."""
    before = readme.read_bytes()
    newline = "\r\n" if b"\r\n" in before else "\n"
    lines = before.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    at = next((i + 1 for i, text in enumerate(lines) if text.startswith("# ")), 0)
    if at and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += newline
    lines[at:at] = [newline, line + newline] if at else [line + newline, newline]
    after = "".join(lines).encode("utf-8", errors="surrogateescape")
    executable = os.access(readme, os.X_OK)
    return Write(readme.relative_to(repo).as_posix(), after, executable, digest(before))
