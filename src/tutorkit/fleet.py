"""Running one job per repo, several at a time, in worker processes that never outlive us.

Copier changes the working directory of the process it renders in, so repos are updated in
separate processes. The workers:

- are forked after copier is imported (no repo pays for importing it again);
- ignore Ctrl-C (the terminal sends it to every process of the group): the parent decides;
- stop on SIGTERM: the parent sends it on Ctrl-C or SIGTERM, and the kernel sends it when the
  parent dies, even by kill -9 (``PR_SET_PDEATHSIG`` on Linux; elsewhere a thread notices that
  the parent is gone). A stopping worker abandons its repo at once, except inside the few
  milliseconds of landing, which finish first (``deferred_signals``).

``run`` returns every job's result; an interrupted run raises ``Interrupted`` carrying the results
it has, so the caller can say which repos were updated and which were not. ``threads`` does the
same for network round trips, in threads.

Between processes: every lock is an ``flock`` on a file (``file_lock``), which the kernel
releases when its holder dies, however it dies; scratch folders are named ``<prefix><pid>-…``,
so a later run removes those of processes that no longer run (``sweep_stale``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
DEFERRED_SIGNALS = tuple(
    s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s
)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: stop now, keep what is done. ``results``: one per job, when known."""

    def __init__(self, results: list[Any] | None = None):
        super().__init__("interrupted")
        self.results = results or []


_stopping = False
_in_job = False


def _stop(signum, frame) -> None:
    """SIGTERM in a worker: stop; abandon the job at hand (between jobs, just do not take one)."""
    global _stopping
    first, _stopping = not _stopping, True
    if first and _in_job:
        raise Interrupted()


def stopping() -> bool:
    """Whether this process was told to stop (a worker checks between repos)."""
    return _stopping


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """In the main process: SIGTERM (and SIGHUP) interrupt like Ctrl-C does."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s]
    previous = {s: signal.signal(s, interrupt) for s in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP until the block ends, then deliver the first one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in DEFERRED_SIGNALS
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            signal.raise_signal(pending[0])


def threads(work: Callable[[Any], Any], items: list[Any], most: int) -> list[Any]:
    """``work(item)`` for every item, up to ``most`` at a time in threads (network round
    trips); the results in the order of ``items``. An interrupt leaves no thread to wait for."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(most, max(1, len(items))))
    try:
        return list(pool.map(work, items))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _die_with(parent: int) -> None:
    """Get SIGTERM when ``parent`` dies (kernel on Linux; a watching thread everywhere)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    if os.getppid() != parent:  # it died before we could ask
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, daemon=True).start()


def _worker(parent: int, tasks, results, work: Callable[[Any], Any]) -> None:
    global _in_job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    try:
        _die_with(parent)
        while not _stopping:
            try:
                item = tasks.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                break
            index, job = item
            results.put(("start", index, os.getpid()))
            _in_job = True
            try:
                result = work(job)
            finally:
                _in_job = False
            results.put(("done", index, result))
    except Interrupted:
        pass  # the job's result is lost; the parent finds out what happened to its repo
    finally:
        results.close()
        if os.getppid() == parent:
            results.join_thread()  # hand over what is queued
        else:
            results.cancel_join_thread()  # nobody reads it any more: do not wait on the pipe


def run(
    jobs: list[Any],
    work: Callable[[Any], Any],
    workers: int,
    crashed: Callable[[Any, str], Any],
    watch: Callable[[int], contextlib.AbstractContextManager] | None = None,
) -> list[Any]:
    """``work(job)`` for every job, ``workers`` at a time; results in the order of ``jobs``.

    ``work`` turns every failure into a result, and returns one even when interrupted (with
    ``result.interrupted`` set), which is what an interrupted worker reports. ``crashed(job,
    why)`` makes the result of a job that got none (its worker died, or it never started).
    ``watch(total)`` is entered once the workers exist (no display thread runs while they are
    forked) and yields a function called with each result.
    """
    watch = watch or (lambda total: contextlib.nullcontext(lambda result: None))
    if workers <= 1 or len(jobs) <= 1:
        with watch(len(jobs)) as on_result:
            return _run_here(jobs, work, on_result, crashed)
    procs, results = _start(jobs, work, workers)
    done: dict[int, Any] = {}
    running: dict[int, int] = {}  # worker pid -> job index
    try:
        with watch(len(jobs)) as on_result:
            _collect(procs, results, done, running, len(jobs), on_result)
    except KeyboardInterrupt:
        _stop_workers(procs, results, done, running)
        raise Interrupted(_complete(jobs, done, running, crashed)) from None
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return _complete(jobs, done, running, crashed)


def _start(jobs: list[Any], work: Callable[[Any], Any], workers: int) -> tuple[list, Any]:
    """Fork the worker processes, every job queued for them; the processes and the results
    queue."""
    flush_streams()
    import multiprocessing  # here, not at import: every command imports this module

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    tasks, results = context.Queue(), context.Queue()
    for item in enumerate(jobs):
        tasks.put(item)
    count = min(workers, len(jobs))
    for _ in range(count):
        tasks.put(None)
    procs = [
        context.Process(target=_worker, args=(os.getpid(), tasks, results, work), daemon=True)
        for _ in range(count)
    ]
    for proc in procs:
        proc.start()
    return procs, results


def _stop_workers(procs: list, results, done: dict, running: dict) -> None:
    """Ctrl-C: tell every worker to stop, and collect what they report until they have."""
    for proc in procs:
        if proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
    with contextlib.suppress(KeyboardInterrupt):
        _drain(procs, results, done, running)


def _complete(jobs, done, running, crashed) -> list[Any]:
    """Every job's result, made up by ``crashed`` for the jobs that reported none."""
    started = {index: pid for pid, index in running.items()}
    results = []
    for index, job in enumerate(jobs):
        if index in done:
            results.append(done[index])
        elif index in started:
            results.append(crashed(job, f"its worker process (pid {started[index]}) stopped"))
        else:
            results.append(crashed(job, "it was not started"))
    return results


def _handle(message, done: dict, running: dict, on_result) -> None:
    kind, index, payload = message
    if kind == "start":
        running[payload] = index
    else:
        done[index] = payload
        on_result(payload)


def _collect(procs, results, done, running, total, on_result) -> None:
    while len(done) < total:
        try:
            _handle(results.get(timeout=0.2), done, running, on_result)
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs):
                # Every worker has exited: read what is left, then stop waiting.
                with contextlib.suppress(queue.Empty):
                    while True:
                        _handle(results.get(timeout=0.2), done, running, on_result)
                return


def _drain(procs, results, done, running, timeout: float = 120) -> None:
    """After asking the workers to stop: collect what they report until they have exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _handle(results.get(timeout=0.2), done, running, lambda result: None)
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs):
                return


def _run_here(jobs, work, on_result, crashed) -> list[Any]:
    done: dict[int, Any] = {}
    try:
        for index, job in enumerate(jobs):
            done[index] = work(job)
            on_result(done[index])
            if getattr(done[index], "interrupted", False):
                raise KeyboardInterrupt
    except (KeyboardInterrupt, Interrupted):
        raise Interrupted(_complete(jobs, done, {}, crashed)) from None
    return [done[i] for i in range(len(jobs))]


def flush_streams() -> None:
    """Flush stdout/stderr before forking, so buffered text is not printed twice."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


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
