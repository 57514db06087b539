"""Every git command tutorkit runs goes through here.

Git never prompts (``GIT_TERMINAL_PROMPT=0``), a missing git is one sentence instead of a
traceback, and a failure keeps git's whole reason (folded onto one line), not only its last line.
Data from a repo or the command line is passed after ``--`` or validated before it reaches git,
so it never becomes an option.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line

IDENTITY = ("-c", "user.name=tutorkit", "-c", "user.email=tutorkit@localhost")


def run_git(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``git ARGS`` without prompts; a missing git is a TutorkitError, not a traceback."""
    env = kwargs.pop("env", None) or os.environ
    kwargs["env"] = {**env, "GIT_TERMINAL_PROMPT": "0"}
    kwargs.setdefault("text", True)
    try:
        return subprocess.run(["git", *args], capture_output=True, check=False, **kwargs)
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


def commit_everything(repo: Path, message: str) -> None:
    """Stage every change in ``repo`` and commit it (as tutorkit when git has no identity)."""
    git(repo, "add", "--all")
    commit = ("commit", "--quiet", "--no-verify", "-m", message)
    if run_git(["-C", str(repo), *commit]).returncode != 0:
        git(repo, *IDENTITY, *commit)  # no user.name/user.email configured


def uncommitted(repo: Path) -> list[str]:
    """Every path ``git status`` reports in ``repo``, untracked files included (no locks taken)."""
    status = git(
        repo, "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all"
    )
    return [entry[3:] for entry in status.split("\0") if len(entry) > 3]


def is_git_root(repo: Path) -> bool:
    """Whether ``repo`` is the top of a git work tree."""
    proc = run_git(["-C", str(repo), "rev-parse", "--show-toplevel"])
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == repo.resolve()


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
