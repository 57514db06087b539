"""Rolling a template release into one repo: computed aside, landed whole, or refused.

For each repo (see ``plan.RepoPlan``) an update:

1. takes the repo's lock and undoes any landing a kill interrupted (``land.recover``);
2. renders the template at the repo's version (*base*) and at the target (*theirs*) with the
   repo's answers, in a work folder under ``.git/tutorkit/`` — never in the working tree;
3. classifies every file the template renders (``merge.classify``): the same ``FileUpdate``
   objects are the ``--dry-run`` preview and what is carried out;
4. lands the result in the working tree all at once (``land.land``), or commits it on a new
   branch without touching the working tree (``--branch``), or, for a dry run, does nothing.

Every failure becomes that repo's result; nothing here raises past ``update_repo``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line
from tutorkit.fleet import Interrupted, deferred_signals
from tutorkit.git import (
    git,
    hash_object,
    head_files,
    is_git_root,
    operation_in_progress,
    read_blobs,
    run_git,
)
from tutorkit.land import (
    RepoBusy,
    RepoChanged,
    Snapshot,
    UnsafePath,
    Write,
    commit_of,
    gate,
    interrupted_landing,
    land,
    mode,
    recover,
    repo_lock,
    work_folder,
)
from tutorkit.merge import Change, Context, FileUpdate, Version, classify, digest
from tutorkit.plan import RepoPlan, State
from tutorkit.render import owned_matcher, render, rendered_files
from tutorkit.repos import ANSWERS_FILE, read_answers, write_answers_source
from tutorkit.untrusted import UntrustedInput

STALE_MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")

Trees = Callable[[str, str], Path]  # (template URL, tag) -> the template's folder at that tag


class Outcome(enum.Enum):
    """What happened to a repo."""

    UPDATED = "updated"
    UP_TO_DATE = "up to date"
    CONFLICTS = "conflicts"
    REFUSED = "refused"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass
class Options:
    branch: str = ""  # commit the update on this new branch; the working tree is not touched
    dry_run: bool = False  # compute and report, write nothing


@dataclass
class UpdateResult:
    repo: str
    outcome: Outcome
    from_version: str = ""
    to_version: str = ""
    reason: str = ""
    branch: str = ""
    dry_run: bool = False
    files: list[FileUpdate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    landed: bool = False  # the update is written (working tree, or the new branch)
    interrupted: bool = False  # Ctrl-C or SIGTERM reached this repo's update

    def paths(self, *changes: Change) -> list[str]:
        return [f.path for f in self.shown if f.change in changes]

    @property
    def shown(self) -> list[FileUpdate]:
        """The files to tell the author about (not the unchanged ones, not the answers file)."""
        return [f for f in self.files if not f.unchanged and f.path != ANSWERS_FILE]

    @property
    def changed(self) -> list[str]:
        """Files the update writes or removes."""
        kept = (Change.AUTHORS, Change.KEPT_DELETED, Change.REFUSED)
        return [f.path for f in self.shown if f.change not in kept]

    @property
    def conflicts(self) -> list[str]:
        return self.paths(Change.CONFLICT)

    @property
    def kept_deleted(self) -> list[str]:
        return self.paths(Change.KEPT_DELETED)

    @property
    def needs_attention(self) -> bool:
        return self.outcome in (
            Outcome.CONFLICTS,
            Outcome.REFUSED,
            Outcome.FAILED,
            Outcome.INTERRUPTED,
        )

    def to_json(self) -> dict:
        return {
            "repo": self.repo,
            "result": self.outcome.value,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "reason": self.reason,
            "branch": self.branch,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "kept_deleted": self.kept_deleted,
            "files": [f.to_json() for f in self.shown],
            "notes": self.notes,
            "needs_attention": self.needs_attention,
        }


def _refuse(result: UpdateResult, reason: str) -> UpdateResult:
    result.outcome, result.reason = Outcome.REFUSED, reason
    return result


def update_fleet(
    paths: list[str],
    options: Options,
    to: str | None = None,
    jobs: int = 1,
    choose: Callable[[list[RepoPlan]], list[RepoPlan]] | None = None,
) -> list[UpdateResult]:
    """Update every repo that ``paths`` name (repos, or fleet folders), ``jobs`` at a time, the
    template fetched once per URL: one result per repo, in order, also when interrupted (each
    interrupted repo's result says so). ``choose`` keeps some of the plans (a wave)."""
    import functools

    from tutorkit import fleet
    from tutorkit.mirror import Templates
    from tutorkit.plan import choose_targets, read_plans
    from tutorkit.report import progress
    from tutorkit.repos import discover

    plans = read_plans(discover(paths), recover=True)
    plans = choose(plans) if choose else plans
    templates = Templates()
    try:
        with progress("Fetching the template", None):
            choose_targets(plans, templates.fetch, to)
        work = functools.partial(update_repo, options=options, trees=templates)
        watch = functools.partial(progress, "Updating")
        return fleet.run(plans, work, jobs, crashed=not_updated, watch=watch)
    except fleet.Interrupted as stop:
        return stop.results
    except KeyboardInterrupt:  # before any repo was started
        return [not_updated(plan, "interrupted before it started") for plan in plans]


def update_repo(plan: RepoPlan, options: Options, trees: Trees) -> UpdateResult:
    """Update one repo as ``plan`` says; every failure is this repo's result, never raised."""
    result = UpdateResult(
        str(plan.repo),
        Outcome.REFUSED,
        plan.version,
        plan.target,
        "",
        options.branch,
        options.dry_run,
        notes=[note for note in plan.notes if note],
    )
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _update(plan, options, trees, result)
        except (RepoBusy, RepoChanged, UnsafePath, UntrustedInput) as exc:
            _refuse(result, str(exc))
        except Exception as exc:  # noqa: BLE001  (one repo's failure must not stop the fleet)
            result.outcome = Outcome.FAILED
            result.reason = (one_line(exc) or type(exc).__name__).rstrip(".")
    except (KeyboardInterrupt, Interrupted):
        result.interrupted = True
        if result.landed:
            result.notes.append("interrupted after the update was written")
        else:
            result.outcome, result.files = Outcome.INTERRUPTED, []
            result.reason = "stopped before anything was written: the repo is as it was"
    # What is reported carries no file contents: they are written, or not, by now.
    result.files = [f.summary() for f in result.files]
    return result


def not_updated(plan: RepoPlan, why: str) -> UpdateResult:
    """The result of a repo whose update never reported back (interrupted, or a worker died).

    Its update may have landed just before the report was lost; the repo itself tells: a
    landed update has moved the answers file to the target version (landing is all or
    nothing, and an interrupted one is undone before anything reads the repo again).
    """
    result = UpdateResult(
        str(plan.repo), Outcome.INTERRUPTED, plan.version, plan.target, interrupted=True
    )
    with contextlib.suppress(TutorkitError, OSError):
        landed = read_answers(plan.repo).commit == plan.target and plan.state is State.BEHIND
        if landed and not interrupted_landing(plan.repo):
            result.outcome, result.landed = Outcome.UPDATED, True
            result.notes.append(f"{why}, after the update was written (git status shows it)")
            return result
    result.reason = f"not updated: {why}"
    return result


def _update(plan: RepoPlan, options: Options, trees: Trees, result: UpdateResult) -> UpdateResult:
    stop = _before_locking(plan, options, result)
    if stop is not None:
        return stop
    repo = plan.repo
    with repo_lock(repo) as folder:
        result.notes += filter(None, [recover(repo, folder)])
        snapshot = Snapshot.take(repo)
        why = _unfit(repo, options, snapshot)
        if why:
            return _refuse(result, why)
        with work_folder(folder) as work:
            result.files = compute(repo, plan, work, trees, from_head=bool(options.branch))
            result.notes += _package_notes(repo, plan, result.files)
            refused = [f.detail for f in result.files if f.change is Change.REFUSED]
            if refused:
                return _refuse(result, "; ".join(refused))
            result.outcome = Outcome.CONFLICTS if result.conflicts else Outcome.UPDATED
            if not options.dry_run:
                _carry_out(repo, folder, work, snapshot, options, result)
    return result


def _carry_out(
    repo: Path, folder: Path, work: Path, snapshot: Snapshot, options: Options, result: UpdateResult
) -> None:
    """Write the update: on a new branch, or in the working tree (through ``land``)."""
    writes, index_info = _writes(repo, result.files, index=not options.branch)
    if options.branch:
        _commit_on_branch(repo, work, options.branch, writes, _message(result), result)
    else:
        land(repo, folder, snapshot, writes, index_info, on_landed=result)


def _before_locking(plan: RepoPlan, options: Options, result: UpdateResult) -> UpdateResult | None:
    """The result when the plan alone settles the repo's fate (None: go on and update it)."""
    repo = plan.repo
    if not repo.is_dir():
        return _refuse(result, "not a directory")
    if not is_git_root(repo):
        return _refuse(result, "not a git repository (or not its top folder)")
    if plan.answers is None:
        return _refuse(result, plan.error)
    if plan.state is State.NO_TARGET:
        result.outcome, result.reason = Outcome.FAILED, plan.error
        return result
    if plan.state is State.CURRENT:
        result.outcome = Outcome.UP_TO_DATE
        return result
    if plan.state is State.AHEAD:
        return _refuse(result, f"it is at {plan.version}, newer than {plan.target} (no downgrades)")
    if options.branch and git(repo, "branch", "--list", "--", options.branch).strip():
        return _refuse(result, f"branch {options.branch} already exists")
    return None


def _unfit(repo: Path, options: Options, snapshot: Snapshot) -> str:
    """Why the repo, as it is now, cannot take an update ("" when it can)."""
    operation = operation_in_progress(repo)
    if operation:
        return f"it is in the middle of {operation}: finish or abort it first"
    dirty = snapshot.uncommitted()
    if dirty and not options.branch:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        return f"uncommitted changes in {shown} (commit or stash them first)"
    stale = _stale_markers(repo)
    if stale:
        return (
            f"{stale} still holds conflict markers from an earlier update: resolve them, "
            "commit, and update again"
        )
    return ""


def _stale_markers(repo: Path) -> str:
    """A tracked file that still holds the markers an earlier update left ("" when none)."""
    args = [arg for marker in STALE_MARKERS for arg in ("-e", marker)]
    proc = run_git(["-C", str(repo), "grep", "-l", "-I", "-F", *args, "--"])
    found = proc.stdout.split() if proc.returncode == 0 else []
    return found[0] if found else ""


Ours = tuple[dict[str, Version], set[str], dict[str, str]]  # files, tracked paths, refusals


def _ours_from_worktree(repo: Path, paths: set[str]) -> Ours:
    """The author's files at ``paths`` as the working tree has them (nothing read through a
    link), the tracked paths, and why a path cannot be written (``gate``, a link, a folder)."""
    tracked = set(filter(None, git(repo, "ls-files", "-z").split("\0")))
    ours, odd = {}, {}
    for rel in paths:
        try:
            path = gate(repo, rel)
        except UnsafePath as exc:
            odd[rel] = str(exc)
            continue
        if path.is_symlink() or (path.exists() and not path.is_file()):
            kind = "a symbolic link" if path.is_symlink() else "a folder"
            odd[rel] = f"{rel} is {kind} here and the template writes a file there"
        elif path.is_file():
            ours[rel] = Version(path.read_bytes(), os.access(path, os.X_OK))
    return ours, tracked, odd


def _ours_from_head(repo: Path, paths: set[str]) -> Ours:
    """The same as ``_ours_from_worktree``, from HEAD's tree (``--branch``)."""
    entries = head_files(repo)
    odd = {}
    for rel in paths:
        try:
            gate(repo, rel, head=entries)
        except UnsafePath as exc:
            odd[rel] = str(exc)
    files = {p for p, (kind, _sha) in entries.items() if kind in ("100644", "100755")}
    wanted = sorted((paths - set(odd)) & files)
    blobs = read_blobs(repo, [entries[p][1] for p in wanted])
    ours = {
        p: Version(blob, entries[p][0] == "100755") for p, blob in zip(wanted, blobs, strict=True)
    }
    for rel in (paths & set(entries)) - set(ours) - set(odd):
        odd[rel] = f"{rel} is not a regular file here and the template writes a file there"
    return ours, set(entries), odd


def _crlf(content: bytes | None) -> bool:
    """Whether every line of ``content`` ends with CRLF (a Windows or autocrlf checkout)."""
    return bool(content) and b"\n" in content and content.count(b"\r\n") == content.count(b"\n")


def _with_crlf(version: Version) -> Version:
    if version.content is None:
        return version
    return Version(version.content.replace(b"\n", b"\r\n"), version.executable)


def _versions(root: Path) -> dict[str, Version]:
    return {rel: Version(*found) for rel, found in rendered_files(root).items()}


def compute(
    repo: Path, plan: RepoPlan, work: Path, trees: Trees, from_head: bool
) -> list[FileUpdate]:
    """Every template file's change, computed in ``work`` (the repo is only read)."""
    answers = plan.answers
    data = {k: v for k, v in answers.data.items() if not k.startswith("_")}
    new_tree = trees(answers.src_path, plan.target)
    render(trees(answers.src_path, plan.version), work / "base", data, reuse=True)
    render(new_tree, work / "theirs", data, reuse=True)
    write_answers_source(work / "theirs" / ANSWERS_FILE, answers.src_path, plan.target)
    base, theirs = _versions(work / "base"), _versions(work / "theirs")
    paths = set(base) | set(theirs)
    ours, tracked, odd = (_ours_from_head if from_head else _ours_from_worktree)(repo, paths)
    owned = owned_matcher(new_tree, data)
    updates = []
    for path in sorted(paths):
        if path in odd:
            updates.append(FileUpdate(path, Change.REFUSED, detail=odd[path]))
            continue
        ctx = Context(plan.version, plan.target, owned=owned(path), tracked=path in tracked)
        if path == ANSWERS_FILE:
            # Answers are the template's record: always rewritten (the values are the repo's own).
            ctx = Context(plan.version, plan.target, tracked=True)
            base[path] = ours.get(path, Version())
        updates.append(_classify(path, base, ours, theirs, ctx))
    return updates


def _classify(path: str, base: dict, ours: dict, theirs: dict, ctx: Context) -> FileUpdate:
    """``merge.classify`` of one path; a file the author keeps with CRLF line endings is
    compared and merged as LF and written back with CRLF, byte for byte."""
    before = ours.get(path, Version())
    crlf = _crlf(before.content) and b"\r" not in (base.get(path, Version()).content or b"")
    mine = Version(before.content.replace(b"\r\n", b"\n"), before.executable) if crlf else before
    update = classify(path, base.get(path, Version()), mine, theirs.get(path, Version()), ctx)
    if crlf:
        update.result = _with_crlf(update.result)
    update.before = before
    return update


def _package_notes(repo: Path, plan: RepoPlan, files: list[FileUpdate]) -> list[str]:
    """Say so when the package folder the answers name is gone (renamed, most likely)."""
    package = str(plan.answers.data.get("package_name") or "")
    prefix = f"src/{package}/"
    lost = [f for f in files if f.path.startswith(prefix) and f.change is Change.KEPT_DELETED]
    if not package or not lost or (repo / prefix).exists():
        return []
    return [
        f"{prefix} is gone (renamed?): the template's changes to {len(lost)} of its files were "
        f"not applied; set package_name to the new name (copier update --data package_name=NEW) "
        "to follow them"
    ]


LEFT_ALONE = (Change.AUTHORS, Change.KEPT_DELETED, Change.REFUSED)


def _writes(repo: Path, files: list[FileUpdate], index: bool) -> tuple[list[Write], str]:
    """The working-tree steps, and (``index``) the entries that mark conflicts, as Copier does."""
    writes, lines = [], []
    for f in files:
        if f.unchanged or f.change in LEFT_ALONE:
            continue
        if _differs(f.before, f.result):
            writes.append(_write(f))
        if index and f.stages:
            lines += _stage_lines(repo, f)
    return writes, "\n".join(lines) + "\n" if lines else ""


def _differs(before: Version, after: Version) -> bool:
    return after.content != before.content or (
        after.exists and after.executable != before.executable
    )


def _write(f: FileUpdate) -> Write:
    return Write(f.path, f.result.content, f.result.executable, digest(f.before.content))


def _stage_lines(repo: Path, f: FileUpdate) -> list[str]:
    """Index entries that mark ``f`` unmerged: its base, ours and theirs as stages 1, 2, 3."""
    lines = [f"0 {'0' * 40}\t{f.path}"]
    for stage, version in enumerate(f.stages, start=1):
        if version.exists:
            sha = hash_object(repo, version.content)
            lines.append(f"{mode(version.executable)} {sha} {stage}\t{f.path}")
    return lines


def _message(result: UpdateResult) -> str:
    """The branch's commit message: the versions, the conflicts, and the template's changes to
    the author's own files that the update did not apply (readable after the update)."""
    message = f"Update template from {result.from_version} to {result.to_version}"
    if result.conflicts:
        message += "\n\nConflicts to resolve in: " + ", ".join(result.conflicts)
    not_applied = [
        f"{f.path}:\n{f.suggestion}"
        for f in result.shown
        if f.suggestion and f.change in (Change.AUTHORS, Change.KEPT_DELETED)
    ]
    if not_applied:
        message += "\n\nThe template's changes to your own files, not applied:\n\n"
        message += "\n".join(not_applied)
    return message


def _commit_on_branch(
    repo: Path, work: Path, branch: str, writes: list[Write], message: str, result: UpdateResult
) -> None:
    """Commit HEAD plus ``writes`` on a new branch; the working tree and index are not touched."""
    commit = commit_of(repo, work, writes, message)
    with deferred_signals():
        # The all-zero old value makes the ref update fail if the branch appeared meanwhile.
        git(repo, "update-ref", f"refs/heads/{branch}", commit, "0" * 40)
        result.landed = True
