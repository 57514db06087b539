"""Locks between tutorkit processes, and what killed processes leave behind.

Every lock is an ``flock`` on a file, which the kernel releases when its holder dies, however it
dies: a kill -9 never leaves a stale lock. Scratch folders are named ``<prefix><pid>-…``, so a
later run can tell the folders of processes that no longer run and remove them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if needed) for the ``with`` block; without
    ``wait``, ``BlockingIOError`` at once when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path, prefix: str) -> None:
    """Remove ``prefix<pid>-…`` folders left by processes that no longer run (a kill -9)."""
    if not folder.is_dir():
        return
    for path in folder.glob(f"{prefix}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
