"""The one room that writes to an author's repo: all of it, or none of it, and only inside it.

Every write tutorkit makes to a repo (``update`` in place or on a branch, ``adopt``, ``new``)
goes through here. Its path gate (``gate``) refuses, naming the path, any write that would land
outside the repo, under ``.git``, or through a symbolic link (a committed
``.github/workflows -> /elsewhere`` included), whatever a template renders.

The change is computed elsewhere (renders in a work folder under ``.git/tutorkit/``); only when
it is complete does anything here touch the working tree, in one short critical section:

1. *Lock.* One update per repo at a time: an exclusive ``flock`` on ``.git/tutorkit/lock``,
   which the kernel releases when its holder dies, so a kill -9 never leaves a stale lock.
2. *Check.* HEAD, the index and ``git status`` must be exactly as they were when the update
   began; otherwise nothing is written and the repo is refused.
3. *Journal.* The new files are staged next to the journal, then each target is moved aside
   (a rename), compared with what was read when the update began, and replaced by a hard link
   to its new version (``link`` never overwrites: a file that appears meanwhile is not lost).
   A difference anywhere undoes every step taken. With ``commit`` (adopt), the commit object is
   made beforehand and the branch moves to it last, atomically (``git update-ref`` with the old
   value). Removing the journal is the commit point: from then on the change stands, whatever
   fails after it (a full disk included).
4. *Interrupts.* Ctrl-C, SIGTERM and SIGHUP arriving during the critical section are held back
   until it ends. SIGKILL cannot be held back: the journal stays, and the next tutorkit command
   that locks the repo undoes the half-landed update (``recover``), so the repo is as it was.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.fleet import deferred_signals, file_lock, sweep_stale
from tutorkit.git import as_committer, clean_environment, git, git_dir, hash_object, run_git
from tutorkit.untrusted import printable

TXN = "txn"
FAULT_ENV = "TUTORKIT_FAULT"  # fault injection for the tests: see fault()


class RepoBusy(TutorkitError):
    """Another tutorkit process holds this repo's lock."""


class RepoChanged(TutorkitError):
    """The repo changed while the update was being computed: nothing was written."""


class UnsafePath(TutorkitError):
    """A write that would land outside the repo, under ``.git`` or through a symbolic link."""


def gate(repo: Path, rel: str, head: dict[str, tuple[str, str]] | None = None) -> Path:
    """Where ``rel`` is written in ``repo``, or ``UnsafePath`` naming it.

    ``rel`` must be a plain relative path (no ``..``, no empty or control-character parts) that
    names nothing under ``.git`` (any case), and no folder above it may be a symbolic link or a
    file: in the working tree, or, with ``head`` (``git.head_files``), in the commit a branch
    is made from.
    """
    why = _unplain(rel)
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        if why:
            break
        why = _not_a_folder(repo, "/".join(parts[:depth]), head)
    if why:
        raise UnsafePath(f"{printable(rel)} {why}: nothing was written")
    return repo / rel


def _unplain(rel: str) -> str:
    """What makes ``rel`` no plain path inside a repo ("" when it is one)."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return "is not a relative path inside the repo"
    if printable(rel) != rel:
        return "has control characters in its name"
    if any(p.casefold() == ".git" for p in parts):
        return "is under .git, where tutorkit never writes"
    return ""


def _not_a_folder(repo: Path, above: str, head: dict | None) -> str:
    """Why ``above`` cannot hold a file written below it ("" when it is a plain folder)."""
    if head is not None and above in head:
        kind = "a symbolic link" if head[above][0] == "120000" else "a file"
    elif (repo / above).is_symlink():
        kind = "a symbolic link"
    elif os.path.lexists(repo / above) and not (repo / above).is_dir():
        kind = "a file"
    else:
        return ""
    return f"would be written through {printable(above)}, {kind} in the repo"


def fault(point: str, step: int = 0) -> None:
    """A fault the tests inject through ``$TUTORKIT_FAULT`` (never set in normal use).

    ``pause-before-land=SECONDS`` sleeps once the update is computed, just before the landing
    checks the repo (so a test can change the repo then); ``pause-while-cleaning=SECONDS`` sleeps
    as the work folder is removed (interrupts are held back then); ``kill-while-landing=N`` kills
    this process (SIGKILL) after N files of the landing have been moved into place;
    ``kill-before-ref`` kills it just before a commit's branch moves; ``full-disk=N`` makes the
    N-th write of the journal fail as a full disk does (ENOSPC).
    """
    name, _, value = os.environ.get(FAULT_ENV, "").partition("=")
    if name != point:
        return
    if point in ("pause-before-land", "pause-while-cleaning"):
        import time

        time.sleep(float(value))
    elif point in ("kill-while-landing", "kill-before-ref") and step == int(value or 0):
        os.kill(os.getpid(), signal.SIGKILL)
    elif point == "full-disk" and step == int(value):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def state_dir(repo: Path) -> Path:
    """``.git/tutorkit``: the lock, the journal and the work folders of updates."""
    return git_dir(repo) / "tutorkit"


@contextlib.contextmanager
def repo_lock(repo: Path) -> Iterator[Path]:
    """Hold the repo's update lock (refuse at once if another process holds it)."""
    folder = state_dir(repo)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(file_lock(folder / "lock", wait=False))
        except BlockingIOError:
            raise RepoBusy(
                "another tutorkit update is running on this repo: wait for it to finish"
            ) from None
        sweep_stale(folder, "work-")
        yield folder


@contextlib.contextmanager
def work_folder(folder: Path) -> Iterator[Path]:
    """A scratch folder for one update, removed afterwards (or by the next run after a kill).

    Ctrl-C or SIGTERM arriving while the folder is made or removed waits until that is done: an
    interrupt in the middle of either would leave a folder behind, or half of one.
    """
    with scratch_folder(folder, "work-") as path:
        yield path


@contextlib.contextmanager
def scratch_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """``parent/<prefix><pid>-…``, made and removed whole even when an interrupt arrives."""
    path: Path | None = None
    try:
        with deferred_signals():
            path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        yield path
    finally:
        if path is not None:
            remove_folder(path, pause="pause-while-cleaning")


def remove_folder(path: Path, pause: str = "") -> None:
    """Remove a scratch folder whole: an interrupt arriving meanwhile waits until it is gone."""
    with deferred_signals():
        if pause:
            fault(pause)
        shutil.rmtree(path, ignore_errors=True)


def sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """What must not change between the start of an update and its landing."""

    head: str
    index: str  # every index entry: mode, object, stage and path
    status: str  # git status, untracked files included

    @classmethod
    def take(cls, repo: Path) -> Snapshot:
        return cls(
            head=git(repo, "rev-parse", "--verify", "HEAD").strip(),
            index=git(repo, "ls-files", "--stage", "-z"),
            status=git(
                repo, "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all"
            ),
        )

    def check(self, repo: Path) -> None:
        now = Snapshot.take(repo)
        for what, before, after in (
            ("HEAD moved (a commit or a checkout)", self.head, now.head),
            ("the index changed (git add, reset or stash)", self.index, now.index),
            ("files changed in the working tree", self.status, now.status),
        ):
            if before != after:
                raise RepoChanged(
                    f"the repo changed while the update ran ({what}): nothing was written; "
                    "update again"
                )

    def uncommitted(self) -> list[str]:
        """Every path ``git status`` reported, untracked files included."""
        return [entry[3:] for entry in self.status.split("\0") if len(entry) > 3]


@dataclass
class Write:
    """One working-tree step: ``path`` becomes ``content`` (None: removed).

    ``expected`` is the sha256 of the file when the update began (None: there was no file).
    """

    path: str
    content: bytes | None
    executable: bool = False
    expected: str | None = None


class Journal:
    """The record of a landing in progress, enough to undo it after a kill."""

    def __init__(self, folder: Path):
        self.root = folder / TXN
        self.file = self.root / "journal.json"
        self.saves = 0

    def _save(self, data: dict) -> None:
        self.saves += 1
        fault("full-disk", self.saves)
        temp = self.file.with_suffix(".tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.file)

    def prepare(self, repo: Path, writes: list[Write], index_before: str) -> dict:
        """Stage the new contents; nothing in the working tree is touched yet."""
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "new").mkdir(parents=True)
        (self.root / "old").mkdir()
        for i, write in enumerate(writes):
            if write.content is not None:
                staged = self.root / "new" / str(i)
                staged.write_bytes(write.content)
                staged.chmod(0o755 if write.executable else 0o644)
        return {
            "repo": str(repo),
            "state": "prepared",
            "writes": [{"path": w.path, "new": w.content is not None} for w in writes],
            "made_dirs": [],
            "index_before": index_before,
        }

    def load(self) -> dict | None:
        try:
            return json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _place(staged: Path, target: Path) -> None:
    """Put ``staged`` at ``target`` without ever replacing a file that is there."""
    try:
        os.link(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # The journal is on another file system: copy beside the target, then link.
        beside = target.with_name(f".{target.name}.tutorkit-{os.getpid()}")
        shutil.copy2(staged, beside)
        try:
            os.link(beside, target)
        finally:
            beside.unlink()


def _apply(repo: Path, journal: Journal, data: dict, writes: list[Write]) -> None:
    for i, write in enumerate(writes):
        fault("kill-while-landing", i)
        target = gate(repo, write.path)
        _move_aside(target, journal.root / "old" / str(i), write)
        if write.content is not None:
            _make_parents(target, journal, data)
            try:
                _place(journal.root / "new" / str(i), target)
            except FileExistsError:
                raise RepoChanged(
                    f"{write.path} appeared while the update ran: nothing was written"
                ) from None


def _move_aside(target: Path, old: Path, write: Write) -> None:
    """Move the file the write replaces to ``old``, refusing when it is not the one read."""
    if write.expected is None:
        if os.path.lexists(target):
            raise RepoChanged(f"{write.path} appeared while the update ran: nothing was written")
        return
    try:
        os.rename(target, old)
    except FileNotFoundError:
        raise RepoChanged(
            f"{write.path} disappeared while the update ran: nothing was written"
        ) from None
    if sha256(old) != write.expected:
        raise RepoChanged(f"{write.path} was edited while the update ran: nothing was written")


def _make_parents(target: Path, journal: Journal, data: dict) -> None:
    """Make the missing folders above ``target``, recorded first so that an undo removes them."""
    missing = [p for p in reversed(target.parents) if not p.exists()]
    if missing:
        data["made_dirs"] = [*data["made_dirs"], *(str(p) for p in missing)]
        journal._save(data)
        for folder in missing:
            folder.mkdir()


def _undo(repo: Path, journal: Journal, data: dict) -> list[str]:
    """Put every file back as it was; returns files that could not be (saved beside them)."""
    kept_aside = []
    for i, entry in reversed(list(enumerate(data["writes"]))):
        target = repo / entry["path"]
        new, old = journal.root / "new" / str(i), journal.root / "old" / str(i)
        if entry["new"] and new.exists() and os.path.lexists(target):
            with contextlib.suppress(OSError):
                if os.path.samefile(target, new):
                    target.unlink()
        if old.exists():
            try:
                _place(old, target)
            except FileExistsError:  # someone saved a new file there meanwhile: keep both
                aside = target.with_name(target.name + ".before-tutorkit")
                shutil.copy2(old, aside)
                kept_aside.append(str(aside.relative_to(repo)))
    for folder in reversed(data.get("made_dirs", [])):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()
    if data.get("state") in ("index", "ref"):
        git(repo, "update-index", "--index-info", input=data["index_before"], check=False)
    return kept_aside


def land(
    repo: Path,
    folder: Path,
    snapshot: Snapshot,
    writes: list[Write],
    index_info: str = "",
    on_landed=None,
    commit: str = "",
) -> None:
    """Carry out ``writes`` (and the index entries ``index_info``) all at once, or not at all.

    With ``commit`` (made by ``commit_of`` from the snapshot's HEAD and the same writes), the
    current branch moves to it last. ``on_landed.landed`` is set inside the critical section,
    so an interrupt held back until its end still finds the change recorded as written.
    """
    for write in writes:
        gate(repo, write.path)
    journal = Journal(folder)
    paths = [w.path for w in writes]
    index_before = _index_entries(repo, paths) if index_info else ""
    try:
        data = journal.prepare(repo, writes, index_before)
        data["commit"], data["head_before"] = commit, snapshot.head
        fault("pause-before-land")
        with deferred_signals():
            snapshot.check(repo)
            data["state"] = "landing"
            journal._save(data)
            try:
                _apply(repo, journal, data, writes)
                if index_info:
                    data["state"] = "index"
                    journal._save(data)
                    git(repo, "update-index", "--index-info", input=index_info)
                if commit:
                    data["state"] = "ref"
                    journal._save(data)
                    fault("kill-before-ref")
                    git(repo, "update-ref", "-m", "tutorkit", "HEAD", commit, snapshot.head)
            except BaseException:
                _undo(repo, journal, data)
                raise
            journal.file.unlink()  # the commit point: from here on the change stands
            if on_landed is not None:
                on_landed.landed = True
            _remove_empty_folders(repo, [w.path for w in writes if w.content is None])
    finally:
        remove_folder(journal.root)


def index_lines(repo: Path, writes: list[Write]) -> str:
    """``git update-index --index-info`` lines that stage ``writes`` (a removal: mode 0)."""
    lines = []
    for write in writes:
        if write.content is None:
            lines.append(f"0 {'0' * 40}\t{write.path}")
        else:
            sha = hash_object(repo, write.content)
            lines.append(f"{mode(write.executable)} {sha}\t{write.path}")
    return "\n".join(lines) + "\n" if lines else ""


def mode(executable: bool) -> str:
    """A file's mode as git's index writes it."""
    return "100755" if executable else "100644"


def commit_of(repo: Path, work: Path, writes: list[Write], message: str) -> str:
    """A commit object: HEAD plus ``writes``, made in a temporary index (no ref, no working tree
    or index of the repo changes). Refuses writes that ``gate`` refuses in HEAD's tree."""
    from tutorkit.git import head_files

    head_entries = head_files(repo)
    for write in writes:
        gate(repo, write.path, head=head_entries)
    env = {**clean_environment(os.environ), "GIT_INDEX_FILE": str(work / "commit-index")}
    git(repo, "read-tree", "HEAD", env=env)
    lines = index_lines(repo, writes)
    if lines:
        git(repo, "update-index", "--index-info", input=lines, env=env)
    tree = git(repo, "write-tree", env=env).strip()
    head = git(repo, "rev-parse", "--verify", "HEAD").strip()
    return as_committer(repo, "commit-tree", tree, "-p", head, "-m", message).strip()


def _remove_empty_folders(repo: Path, removed: list[str]) -> None:
    """Folders emptied by the files the update removed go too (as Copier does)."""
    for path in removed:
        for folder in (repo / path).parents:
            if folder == repo or not folder.is_relative_to(repo):
                break
            try:
                folder.rmdir()
            except OSError:
                break


def recover(repo: Path, folder: Path) -> str:
    """Undo a landing that a kill -9 interrupted; says what it did ("" when there was none)."""
    journal = Journal(folder)
    data = journal.load()
    if data is None:
        shutil.rmtree(journal.root, ignore_errors=True)
        return ""
    note = ""
    if data.get("state") == "ref" and _head(repo) == data.get("commit"):
        pass  # killed after the branch moved: the change stands, only the journal is left
    elif data.get("state") in ("landing", "index", "ref"):
        aside = _undo(repo, journal, data)
        note = "an update that was killed while it wrote its files was undone"
        if aside:
            note += f" (your newer files kept, the older ones saved as {', '.join(aside)})"
    shutil.rmtree(journal.root, ignore_errors=True)
    return note


def _head(repo: Path) -> str:
    return git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip()


def _journal_here(repo: Path) -> tuple[Path, dict | None]:
    """The repo's ``.git/tutorkit`` (wherever git keeps it: a linked worktree's is elsewhere) and
    the journal a killed landing left there (None when there is none)."""
    folder = repo / ".git" / "tutorkit"
    if not (repo / ".git").is_dir():  # a linked worktree or a submodule: ask git where it is
        try:
            folder = state_dir(repo)
        except (TutorkitError, OSError):
            return folder, None
    data = Journal(folder).load() if (folder / TXN).is_dir() else None
    return folder, data


def interrupted_landing(repo: Path) -> bool:
    """Whether a journal says a landing was killed while it wrote this repo's files."""
    _folder, data = _journal_here(repo)
    return data is not None and data.get("state") in ("landing", "index", "ref")


def leftovers(repo: Path) -> bool:
    """Whether a killed run left a journal or a work folder in this repo's ``.git/tutorkit``."""
    folder, _data = _journal_here(repo)
    return folder.is_dir() and any(
        p.name == TXN or p.name.startswith("work-") for p in folder.iterdir()
    )


def recover_landing(repo: Path) -> str:
    """Take the repo's lock, undo an interrupted landing (see ``recover``) and remove the work
    folders of killed runs; "" when there was no landing to undo (or another run holds the lock).
    """
    try:
        with repo_lock(repo) as folder:
            return recover(repo, folder)
    except RepoBusy:
        return ""


def _index_entries(repo: Path, paths: list[str]) -> str:
    """``--index-info`` lines that put the index entries of ``paths`` back as they are now."""
    lines = [f"0 {'0' * 40} {stage}\t{path}" for path in paths for stage in (1, 2, 3)]
    lines += [f"0 {'0' * 40}\t{path}" for path in paths]
    current = git(repo, "ls-files", "--stage", "-z", "--", *paths) if paths else ""
    for entry in current.split("\0"):
        if "\t" in entry:
            meta, path = entry.split("\t", 1)
            mode, sha, stage = meta.split()
            lines.append(f"{mode} {sha} {stage}\t{path}")
    return "\n".join(lines) + "\n"


def add_file(repo: Path, rel: str, content: bytes) -> None:
    """A new file ``rel`` in the working tree (never replacing one; not staged), under the
    repo's lock and through the path gate, like every other write."""
    write_files(repo, [Write(rel, content)])


def write_files(repo: Path, writes: list[Write]) -> None:
    """``writes`` in the working tree, all or none (not staged), under the repo's lock and
    through the path gate. A write whose ``expected`` digest no longer matches the file (edited
    meanwhile) refuses the whole landing."""
    if run_git(["rev-parse", "--verify", "--quiet", "HEAD"], cwd=repo).returncode != 0:
        raise TutorkitError(
            f"{printable(str(repo))} is not a git repo with a commit, which tutorkit needs to "
            "write into it safely: run `git init`, `git add -A` and `git commit` there first; "
            "nothing was written."
        )
    with repo_lock(repo) as folder:
        recover(repo, folder)
        land(repo, folder, Snapshot.take(repo), writes)


@contextlib.contextmanager
def staging_folder(parent: Path, name: str) -> Iterator[Path]:
    """A scratch folder in ``parent`` (the same file system as the repo to be made there, so it
    moves into place by a rename), removed afterwards, or by the next run after a kill."""
    prefix = f".{name}.tutorkit-"
    sweep_stale(parent, prefix)
    with scratch_folder(parent, prefix) as path:
        yield path


def place_new_repo(work: Path, target: Path) -> None:
    """Move the finished repo ``work`` to ``target`` (absent or an empty folder) in one rename,
    making the folders above it; on failure the folders made are removed and ``target`` is as
    it was. A kill leaves ``target`` as it was too (the staging folder is swept next time)."""
    made = [p for p in reversed(target.parents) if not p.exists()]
    emptied = target.is_dir() and not target.is_symlink()
    try:
        for folder in made:
            folder.mkdir()
        fault("kill-while-landing", 0)
        if emptied:
            target.rmdir()  # empty, checked by the caller; rename cannot replace a folder
        os.rename(work, target)
    except BaseException:
        if emptied and not os.path.lexists(target):
            target.mkdir()
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
