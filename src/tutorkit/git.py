"""Every git command tutorkit runs goes through here.

Git never prompts (``GIT_TERMINAL_PROMPT=0``), a missing git is one sentence instead of a
traceback, and a failure keeps git's whole reason (folded onto one line), not only its last line.
Data from a repo or the command line is passed after ``--`` or validated before it reaches git,
so it never becomes an option.

A repo is untrusted (docs/guarantees.md): git runs with hooks and the file-system monitor turned
off (``core.hooksPath``, ``core.fsmonitor``: both run commands a repo's configuration names) and
with the ``ext::`` transport refused, and without the repository variables a caller may have
inherited (``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_INDEX_FILE``, … from a git hook): the repo a
command works on is the one tutorkit names, never another.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line

IDENTITY = ("-c", "user.name=tutorkit", "-c", "user.email=tutorkit@localhost")
# What `git rev-parse --local-env-vars` lists: variables that point git at another repository.
REPOSITORY_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE", "GIT_COMMON_DIR",
)  # fmt: skip
HARDENED = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "protocol.ext.allow=never",
)  # fmt: skip
# A git operation that a person is in the middle of: (file in the git dir, its name for people).
IN_PROGRESS = (
    ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase or git am"),
    ("MERGE_HEAD", "a merge"), ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"), ("BISECT_LOG", "a bisect"),
)  # fmt: skip


def clean_environment(env: dict[str, str] | os._Environ) -> dict[str, str]:
    """``env`` without the variables that would point git at another repository."""
    return {k: v for k, v in env.items() if k not in REPOSITORY_VARIABLES}


def run_git(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``git ARGS`` without prompts; a missing git is a TutorkitError, not a traceback.

    ``env``, when given, is used as it is (``GIT_INDEX_FILE`` for a temporary index); otherwise
    the environment is this process's without the repository variables.
    """
    env = kwargs.pop("env", None)
    kwargs["env"] = {**(env or clean_environment(os.environ)), "GIT_TERMINAL_PROMPT": "0"}
    kwargs.setdefault("text", True)
    try:
        return subprocess.run(["git", *HARDENED, *args], capture_output=True, check=False, **kwargs)
    except FileNotFoundError as exc:
        raise TutorkitError(
            "git is not installed (or not on PATH): install git and retry."
        ) from exc


def reason(proc: subprocess.CompletedProcess) -> str:
    """Why a git command failed, in git's own words, on one line."""
    text = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
    lines = [line.removeprefix("fatal: ").removeprefix("error: ") for line in text.splitlines()]
    text = one_line(" ".join(line for line in lines if line.strip())).rstrip(".")
    return text or f"exit {proc.returncode}"


def git(repo: Path, *args: str, check: bool = True, **kwargs) -> str:
    """Run git in ``repo`` and return its standard output."""
    proc = run_git(["-C", str(repo), *args], **kwargs)
    if check and proc.returncode != 0:
        raise TutorkitError(f"git {args[0]} failed in {repo}: {reason(proc)}")
    return proc.stdout


def as_committer(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` for a command that records an author (commit, commit-tree): as
    tutorkit when git has no user.name/user.email configured. Its standard output."""
    proc = run_git(["-C", str(repo), *args])
    if proc.returncode != 0:
        proc = run_git(["-C", str(repo), *IDENTITY, *args])
    if proc.returncode != 0:
        raise TutorkitError(f"git {args[0]} failed in {repo}: {reason(proc)}")
    return proc.stdout


def commit_everything(repo: Path, message: str) -> None:
    """Stage every change in ``repo`` and commit it."""
    git(repo, "add", "--all")
    as_committer(repo, "commit", "--quiet", "--no-verify", "-m", message)


def is_git_root(repo: Path) -> bool:
    """Whether ``repo`` is the top of a git work tree."""
    proc = run_git(["-C", str(repo), "rev-parse", "--show-toplevel"])
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == repo.resolve()


def git_dir(repo: Path) -> Path:
    """The repo's git folder (``.git``, or elsewhere for a linked worktree)."""
    return Path(git(repo, "rev-parse", "--absolute-git-dir").strip())


def operation_in_progress(repo: Path) -> str:
    """The git operation the repo is in the middle of ("a rebase", …; "" when none)."""
    folder = git_dir(repo)
    return next((what for name, what in IN_PROGRESS if (folder / name).exists()), "")


def valid_branch_name(name: str) -> bool:
    """Whether ``name`` is a branch name git accepts (and not something that reads as an option)."""
    if not name or name.startswith("-"):
        return False
    return run_git(["check-ref-format", "--branch", name]).returncode == 0


def hash_object(repo: Path, content: bytes) -> str:
    """Store ``content`` as a blob in ``repo`` and return its object name."""
    proc = run_git(["-C", str(repo), "hash-object", "-w", "--stdin"], input=content, text=False)
    if proc.returncode != 0:
        raise TutorkitError(f"git hash-object failed in {repo}: {reason(proc)}")
    return proc.stdout.decode().strip()


def head_files(repo: Path) -> dict[str, tuple[str, str]]:
    """Every file of HEAD: path -> (mode, object name)."""
    entries = {}
    for line in git(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD").split("\0"):
        if "\t" in line:
            meta, path = line.split("\t", 1)
            mode, _kind, sha = meta.split()
            entries[path] = (mode, sha)
    return entries


def read_blobs(repo: Path, shas: list[str]) -> list[bytes]:
    """The contents of blobs ``shas``, in one ``git cat-file --batch``."""
    if not shas:
        return []
    proc = run_git(
        ["-C", str(repo), "cat-file", "--batch"],
        input=("\n".join(shas) + "\n").encode(),
        text=False,
    )
    if proc.returncode != 0:
        raise TutorkitError(f"git cat-file failed in {repo}: {reason(proc)}")
    out, blobs, pos = proc.stdout, [], 0
    for _ in shas:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        blobs.append(out[header_end + 1 : header_end + 1 + size])
        pos = header_end + 1 + size + 1
    return blobs
