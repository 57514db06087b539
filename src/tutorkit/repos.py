"""Companion repos on disk: finding them, reading their answers file, asking git about them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.git import git, is_git_root
from tutorkit.template import parse_version

ANSWERS_FILE = ".copier-answers.yml"


def discover(paths: list[str]) -> list[Path]:
    """The repos named on the command line.

    A path holding an answers file is a repo; any other folder is a fleet whose repos are its
    immediate subdirectories holding an answers file. A path that is neither is kept so that the
    caller reports it as refused.
    """
    repos: list[Path] = []
    for raw in paths or ["."]:
        path = Path(raw).expanduser().resolve()
        if path.is_dir() and not (path / ANSWERS_FILE).exists():
            members = sorted(p for p in path.iterdir() if (p / ANSWERS_FILE).is_file())
            if members:
                repos.extend(members)
                continue
        repos.append(path)
    return list(dict.fromkeys(repos))


@dataclass
class Answers:
    """What the answers file says about a repo's template."""

    src_path: str
    commit: str
    data: dict

    @property
    def framework(self) -> str:
        return str(self.data.get("framework", "?"))


def read_answers(repo: Path) -> Answers:
    """The repo's answers file, or a TutorkitError saying why it cannot be used."""
    import yaml

    path = repo / ANSWERS_FILE
    if not path.is_file():
        raise TutorkitError(f"no {ANSWERS_FILE} (not a tutorkit repo)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TutorkitError(f"{ANSWERS_FILE} is not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise TutorkitError(f"{ANSWERS_FILE} is not a mapping of answers")
    src, commit = data.get("_src_path"), data.get("_commit")
    if not isinstance(src, str) or not src:
        raise TutorkitError(f"{ANSWERS_FILE} names no template (_src_path)")
    if not isinstance(commit, str) or parse_version(commit) is None:
        raise TutorkitError(f"{ANSWERS_FILE} names no template version tag (_commit)")
    return Answers(src_path=src, commit=commit, data=data)


def refusal(repo: Path) -> str | None:
    """Why ``repo`` cannot be updated, or None when it can."""
    if not repo.is_dir():
        return "not a directory"
    if not is_git_root(repo):
        return "not a git repository (or not its top folder)"
    try:
        read_answers(repo)
    except TutorkitError as exc:
        return str(exc)
    if git(repo, "status", "--porcelain"):
        return "uncommitted changes (commit or stash them first)"
    return None
