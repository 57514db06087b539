"""What an update does to each file: three versions in, one classified change out.

For every path the template renders, an update compares three versions of the file:

- *base*: the template at the repo's current version, rendered with the repo's answers;
- *ours*: the file in the repo (the author's);
- *theirs*: the template at the new version, rendered with the same answers.

``classify`` turns them into a ``FileUpdate``: the kind of change (an ``Change``), what the file
becomes, and what to tell the author. The same objects are shown by ``--dry-run`` and carried out
by the real update, so a preview cannot disagree with what happens.

Text files are merged with ``git merge-file`` (conflicts fenced by ``<<<<<<<`` lines, as Copier
does); notebooks are merged as notebooks (see ``notebook_merge``), so they stay valid JSON. A
merge that comes out clean but leaves a YAML, TOML or JSON file that no longer parses is a
conflict, never a silently broken file.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tutorkit.git import run_git
from tutorkit.untrusted import UntrustedInput, load_json, load_yaml_all

LABELS = ("before updating", "last update", "after updating")  # ours, base, theirs (as Copier)
STRUCTURED = {".json": "JSON", ".ipynb": "JSON", ".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}
SUGGESTION_LINES = 60


class Change(enum.Enum):
    """What an update does to one file (the classes ``--dry-run`` shows)."""

    ADDED = "added"  # the template adds it; the repo had no such file
    REMOVED = "removed"  # the template removes it; the author had not changed it
    UPDATED = "updated"  # the template changed it; the author had not: taken as it is
    MERGED = "merged"  # both changed it, in different places: merged
    CONFLICT = "conflict"  # both changed the same part: both kept, marked, reported
    AUTHORS = "author's"  # the author's file: left alone; the template's change is shown
    KEPT_DELETED = "kept deleted"  # the author deleted it: it stays deleted
    REFUSED = "refused"  # writing it would lose something of the author's: the repo is refused


@dataclass
class Version:
    """One version of a file: its bytes (None when absent) and whether it is executable."""

    content: bytes | None = None
    executable: bool = False

    @property
    def exists(self) -> bool:
        return self.content is not None


@dataclass
class FileUpdate:
    """One file's change: what it becomes and what the author is told."""

    path: str
    change: Change
    result: Version = field(default_factory=Version)  # the file after the update
    detail: str = ""  # conflicting cells, the reason of a refusal, …
    suggestion: str = ""  # the template's change, as a diff, where it was not applied
    stages: tuple[Version, Version, Version] | None = None  # base, ours, theirs of a conflict
    unchanged: bool = False  # the update leaves the file exactly as it is
    before: Version = field(default_factory=Version)  # the author's version the update started from

    def summary(self) -> FileUpdate:
        """The same report without the file contents (what crosses between processes)."""
        return FileUpdate(
            self.path, self.change, detail=self.detail, suggestion=self.suggestion,
            unchanged=self.unchanged,
        )  # fmt: skip

    def to_json(self) -> dict:
        data = {"path": self.path, "change": self.change.value}
        if self.detail:
            data["detail"] = self.detail
        if self.suggestion:
            data["suggestion"] = self.suggestion
        return data


def digest(content: bytes | None) -> str | None:
    return None if content is None else hashlib.sha256(content).hexdigest()


def is_text(content: bytes) -> bool:
    if b"\0" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_error(path: str, content: bytes) -> str:
    """Why ``content`` is not valid for the kind of file ``path`` is ("" when it is, or unknown)."""
    kind = STRUCTURED.get(Path(path).suffix)
    try:
        if kind == "JSON":
            load_json(content, path)
        elif kind == "TOML":
            tomllib.loads(content.decode("utf-8"))
        elif kind == "YAML":
            load_yaml_all(content, path)
    except (UntrustedInput, ValueError, UnicodeDecodeError):
        return f"not valid {kind}"
    return ""


def template_diff(path: str, base: Version, theirs: Version, old: str, new: str) -> str:
    """The template's own change to ``path`` between two versions, as a unified diff."""
    before = (base.content or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    after = (theirs.content or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(before, after, f"{path} (template {old})", f"{path} (template {new})")
    )
    if len(lines) > SUGGESTION_LINES:
        hidden = len(lines) - SUGGESTION_LINES
        lines = [*lines[:SUGGESTION_LINES], f"... ({hidden} more lines)\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def merge_text(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, int]:
    """``git merge-file`` of three texts: the result and its number of conflicts."""
    with tempfile.TemporaryDirectory(prefix="tutorkit-merge-") as tmp:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(content)
            paths.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        done = run_git(["merge-file", "-p", *labels, "--", *paths], text=False)
    if done.returncode < 0 or done.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {done.stderr.decode(errors='replace')}")
    return done.stdout, done.returncode


@dataclass
class Context:
    """What classifying a file needs to know besides its three versions."""

    old: str  # the version the repo is at
    new: str  # the version it goes to
    owned: bool = False  # the author's file once created (the template's `_skip_if_exists`)
    tracked: bool = True  # ours is tracked by git (not an ignored file)


def classify(path: str, base: Version, ours: Version, theirs: Version, ctx: Context) -> FileUpdate:
    """The change an update makes to ``path``, given its three versions."""
    suggestion = ""
    if base.content != theirs.content:
        suggestion = template_diff(path, base, theirs, ctx.old, ctx.new)
    if ours.exists and not ctx.tracked:
        return _ignored(path, ours, theirs, suggestion)
    if not ours.exists:
        return _absent(path, base, ours, theirs, ctx, suggestion)
    if not suggestion or ours.content == theirs.content:
        # The template did not change it, or the author already has its new version.
        return FileUpdate(path, Change.UPDATED, ours, unchanged=True)
    if not theirs.exists:
        return _removed(path, base, ours, ctx, suggestion)
    if ctx.owned:
        return FileUpdate(path, Change.AUTHORS, ours, suggestion=suggestion)
    if ours.content == base.content:
        return FileUpdate(path, Change.UPDATED, Version(theirs.content, theirs.executable))
    return merge(path, base, ours, theirs, suggestion)


def _ignored(path: str, ours: Version, theirs: Version, suggestion: str) -> FileUpdate:
    """An ignored file of the author's where the template has one: never written over."""
    if not theirs.exists or ours.content == theirs.content or not suggestion:
        return FileUpdate(path, Change.UPDATED, ours, unchanged=True)
    return FileUpdate(
        path,
        Change.AUTHORS,
        ours,
        detail="git-ignored here: yours is kept and the template's version is not written",
        suggestion=suggestion,
    )


def _absent(
    path: str, base: Version, ours: Version, theirs: Version, ctx: Context, suggestion: str
) -> FileUpdate:
    """A template file the repo does not have: new, re-created (the author's), or kept deleted."""
    if not theirs.exists:
        return FileUpdate(path, Change.UPDATED, ours, unchanged=True)
    if not base.exists or ctx.owned:
        return FileUpdate(path, Change.ADDED, theirs)  # new, or re-created as Copier does
    return FileUpdate(path, Change.KEPT_DELETED, ours, suggestion=suggestion)


def _removed(path: str, base: Version, ours: Version, ctx: Context, suggestion: str) -> FileUpdate:
    if ours.content == base.content and not ctx.owned:
        return FileUpdate(path, Change.REMOVED, Version(None))
    if ctx.owned:
        return FileUpdate(
            path, Change.AUTHORS, ours, detail="the template no longer has this file: yours is kept"
        )
    return FileUpdate(
        path,
        Change.CONFLICT,
        ours,
        detail="the template removes this file and you changed it: your version is kept",
        suggestion=suggestion,
        stages=(base, ours, Version(None)),
    )


KEEP_YOURS = "yours is kept; the template's is in the index (git checkout --theirs)"


def _kept(path: str, ours: Version, stages: tuple, why: str) -> FileUpdate:
    """A conflict that leaves the author's file as it is (the three versions in the index)."""
    return FileUpdate(path, Change.CONFLICT, ours, detail=f"{why}: {KEEP_YOURS}", stages=stages)


def merge(
    path: str, base: Version, ours: Version, theirs: Version, suggestion: str = ""
) -> FileUpdate:
    """Both sides changed ``path``: merge them (as notebooks, as text, or not at all)."""
    stages = (base, ours, theirs)
    contents = [v.content or b"" for v in stages]
    if path.endswith(".ipynb"):
        return _merge_notebook(path, ours, stages, suggestion)
    if not all(is_text(c) for c in contents):
        return _kept(path, ours, stages, "a binary file both sides changed")
    content, conflicts = merge_text(*contents)
    if conflicts:
        return FileUpdate(
            path,
            Change.CONFLICT,
            Version(content, ours.executable),
            detail=f"{conflicts} conflicting part(s), marked with <<<<<<< lines",
            stages=stages,
        )
    problem = parse_error(path, content)
    if problem:
        return _kept(path, ours, stages, f"merging the two versions gives a file that is {problem}")
    return FileUpdate(path, Change.MERGED, Version(content, ours.executable))


def _merge_notebook(path: str, ours: Version, stages: tuple, suggestion: str) -> FileUpdate:
    """Notebooks merge cell by cell, and stay valid notebooks (see ``notebook_merge``)."""
    from tutorkit.notebook_merge import merge_notebooks

    merged = merge_notebooks(*(v.content or b"" for v in stages))
    if merged is None:
        why = "a version of this notebook is not a valid nbformat 4 notebook: it cannot be merged"
        return _kept(path, ours, stages, why)
    if merged.content == ours.content:
        # Every template change was to cells the author removed: the notebook is theirs.
        detail = merged.describe()
        return FileUpdate(path, Change.AUTHORS, ours, detail=detail, suggestion=suggestion)
    return FileUpdate(
        path,
        Change.CONFLICT if merged.conflicts else Change.MERGED,
        Version(merged.content, ours.executable),
        detail=merged.describe(),
        stages=stages if merged.conflicts else None,
    )
