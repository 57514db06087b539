"""Companion repos on disk: finding them, reading their answers file, asking git about them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.template import parse_version
from tutorkit.untrusted import MAX_TEXT, UntrustedInput, load_json, load_yaml, repo_file

ANSWERS_FILE = ".copier-answers.yml"
# Folders that hold environments, caches or git itself, never the tutorial's own files.
SKIPPED_FOLDERS = {
    ".git", ".venv", "venv", "env", ".tox", ".ipynb_checkpoints", "node_modules", "site-packages"
}  # fmt: skip


def repo_files(repo: Path, suffix: str) -> list[Path]:
    """The repo's files whose names end with ``suffix``, in any folder but ``SKIPPED_FOLDERS``."""
    return sorted(
        path
        for path in repo.rglob(f"*{suffix}")
        if path.is_file() and not SKIPPED_FOLDERS & set(path.relative_to(repo).parts[:-1])
    )


MAGIC = re.compile(r"^\s*[%!?]")  # IPython magics and shell escapes: not Python


def repo_text(repo: Path, path: Path, limit: int = MAX_TEXT) -> str:
    """A text file of ``repo`` ("" when it leads out of the repo, is too large or is missing)."""
    try:
        return repo_file(repo, path, limit).decode("utf-8", errors="replace")
    except (UntrustedInput, OSError):
        return ""


def code_of(repo: Path, path: Path) -> str:
    """A script's code, or a notebook's code cells, magics and shell lines dropped ("" for a
    file that is not readable as either: outside the repo, too large, not a notebook)."""
    text = repo_text(repo, path)
    if path.suffix == ".ipynb":
        text = "\n".join(code_cells(text, path.name))
    return "\n".join("" if MAGIC.match(line) else line for line in text.splitlines())


def code_cells(text: str, name: str) -> list[str]:
    """The sources of a notebook's code cells (none when it is not a notebook)."""
    try:
        notebook = load_json(text, name) if text else {}
    except UntrustedInput:
        return []
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    return [_source(c.get("source", "")) for c in code]


def _source(source: object) -> str:
    """A cell's source in either of nbformat's forms, a string or a list of strings; anything
    else a hostile file may hold reads as nothing."""
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


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
            # A symlinked member is the repo it points at: resolved, so it is updated once.
            members = sorted({p.resolve() for p in path.iterdir() if (p / ANSWERS_FILE).is_file()})
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
    path = repo / ANSWERS_FILE
    if not repo.is_dir():
        raise TutorkitError("no such folder")
    if not path.is_file():
        raise TutorkitError(f"no {ANSWERS_FILE} (not a tutorkit repo)")
    data = load_yaml(repo_file(repo, path, MAX_TEXT), ANSWERS_FILE)
    if not isinstance(data, dict):
        raise TutorkitError(f"{ANSWERS_FILE} is not a mapping of answers")
    src, commit = data.get("_src_path"), data.get("_commit")
    if not isinstance(src, str) or not src:
        raise TutorkitError(f"{ANSWERS_FILE} names no template (_src_path)")
    if not isinstance(commit, str) or parse_version(commit) is None:
        raise TutorkitError(f"{ANSWERS_FILE} names no template version tag (_commit)")
    return Answers(src_path=src, commit=commit, data=data)


def write_answers_source(answers_file: Path, url: str, tag: str) -> None:
    """Make the answers file name the canonical git URL and tag, keeping every other byte."""
    import yaml

    text = answers_file.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not re.match(r"_(src_path|commit)\s*:", line)]
    if len(lines) - len(kept) < 1:
        raise TutorkitError(f"The template wrote no _src_path into {ANSWERS_FILE}: report a bug.")
    first = next(i for i, line in enumerate(lines) if re.match(r"_(src_path|commit)\s*:", line))
    header = yaml.safe_dump({"_commit": tag, "_src_path": url}, sort_keys=False, width=10**6)
    kept[first:first] = [header]
    answers_file.write_text("".join(kept), encoding="utf-8")
