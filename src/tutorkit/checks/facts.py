"""What the rules read about a repo, read once and through ``tutorkit.untrusted``.

Every file is the repo's (untrusted): read only inside the repo (no symlink out), bounded in
size, parsed with bounds (YAML aliases, nesting), and a file that an update left with conflict
markers is named as such (TK120) instead of failing to parse.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from tutorkit.git import run_git
from tutorkit.repos import ANSWERS_FILE, repo_files
from tutorkit.untrusted import UntrustedInput, inside, load_json, load_yaml, repo_file

MARKER = re.compile(r"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
LAYOUTS = ("starter", "infrastructure")


class Skip(Exception):
    """The rule cannot say anything about this repo (its message says why)."""


class Facts:
    """One repo as the rules see it; each fact is read on first use and kept."""

    def __init__(self, repo: Path):
        self.repo = repo

    def text(self, rel: str) -> str:
        """A file of the repo as text (refused: outside the repo, too large, not a file)."""
        data = repo_file(self.repo, self.repo / rel)
        return data.decode("utf-8", errors="replace")

    def _parsed(self, rel: str, parse):
        text = self.text(rel)
        if MARKER.search(text):
            raise UntrustedInput(f"{rel} holds conflict markers that an update left (see TK120)")
        return parse(text, rel)

    def yaml(self, rel: str):
        """A YAML file of the repo as data (UntrustedInput: unreadable, conflicted, a bomb)."""
        return self._parsed(rel, load_yaml)

    def json(self, rel: str):
        return self._parsed(rel, load_json)

    def toml(self, rel: str) -> dict:
        import tomllib

        def parse(text: str, what: str) -> dict:
            try:
                return tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise UntrustedInput(f"{what} is not valid TOML ({exc})") from None

        return self._parsed(rel, parse)

    def is_file(self, rel: str) -> bool:
        path = self.repo / rel
        return path.is_file() and inside(self.repo, path)

    @cached_property
    def _answers(self) -> tuple[dict | None, str]:
        if not (self.repo / ANSWERS_FILE).exists():
            return None, f"{ANSWERS_FILE} is missing"
        try:
            data = self.yaml(ANSWERS_FILE)
        except UntrustedInput as exc:
            return None, str(exc)
        if not isinstance(data, dict):
            return None, f"{ANSWERS_FILE} is not a mapping"
        return data, ""

    @property
    def answers_problem(self) -> str:
        """Why the answers file cannot be used ("" when it can)."""
        return self._answers[1]

    @property
    def answers(self) -> dict:
        """The answers file's data; a rule that needs it is skipped when it cannot be read."""
        data, problem = self._answers
        if data is None:
            raise Skip(f"{ANSWERS_FILE} cannot be read (see TK101)")
        return data

    @property
    def layout(self) -> str:
        """ "starter" or "infrastructure" (what `tutorkit adopt` records); "" when unknown."""
        data = self._answers[0]
        if data is None:
            return ""
        layout = data.get("layout", "starter")
        return layout if layout in LAYOUTS else ""

    @property
    def package(self) -> str:
        """The answers' package name, if it is one (never a path such as ``../..``)."""
        name = self.answers.get("package_name")
        if not isinstance(name, str) or not PACKAGE.match(name):
            raise Skip(f"{ANSWERS_FILE} names no valid package_name (see TK101)")
        return name

    @cached_property
    def tracked(self) -> list[str]:
        proc = run_git(["-C", str(self.repo), "ls-files", "-z"])
        return [p for p in proc.stdout.split("\0") if p] if proc.returncode == 0 else []

    @cached_property
    def unmerged(self) -> list[str]:
        proc = run_git(["-C", str(self.repo), "ls-files", "-u", "-z"])
        return sorted({e.split("\t", 1)[1] for e in proc.stdout.split("\0") if "\t" in e})

    @cached_property
    def notebooks(self) -> list[str]:
        """Every notebook of the repo, in any folder (environments and checkpoints aside)."""
        return [p.relative_to(self.repo).as_posix() for p in repo_files(self.repo, ".ipynb")]

    def files(self, pattern: str) -> list[str]:
        """The repo's files matching a glob (relative to the repo), none outside it."""
        return sorted(
            p.relative_to(self.repo).as_posix()
            for p in self.repo.glob(pattern)
            if p.is_file() and inside(self.repo, p)
        )
