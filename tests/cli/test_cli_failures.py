"""No tracebacks: each failure is one sentence on stderr, the exit status the help promises
(1 when something needs attention, 2 for a usage error), and nothing written. Run as a user
runs the CLI: a fresh interpreter per command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import snapshot, tk_subprocess


def assert_one_sentence(done: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("tutorkit: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr


def test_status_into_a_closed_pipe_stops_quietly(make_repo, template):
    """`tutorkit status --json | head -1`: the reader leaves before tutorkit writes."""
    make_repo("a")
    make_repo("b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutorkit", "status", "--json", str(make_repo.fleet)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # like head, gone before the first line is written
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == 1


def test_status_piped_into_head_prints_no_traceback(make_repo, template):
    make_repo("a")
    command = f'"{sys.executable}" -m tutorkit status --json "{make_repo.fleet}" | head -1'
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
    assert (done.stdout, done.stderr) == ("[\n", "")


def test_new_under_a_regular_file(tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine\n")
    before = snapshot(tmp_path)
    done = tk_subprocess("new", afile / "digits", "--defaults")
    assert_one_sentence(done, 1, f"{afile} is a file, not a folder")
    assert snapshot(tmp_path) == before


def test_new_deeper_under_a_regular_file(tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine\n")
    done = tk_subprocess("new", afile / "a" / "b", "--defaults")
    assert_one_sentence(done, 1, "is a file, not a folder")
    assert afile.read_text() == "mine\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc here")
@pytest.mark.parametrize("dest", ["/proc/digits", "/proc/self/digits", "/proc/digits/deeper"])
def test_new_under_proc(dest):
    assert_one_sentence(tk_subprocess("new", dest, "--defaults"), 1, f"{dest} cannot be created")
    assert not Path(dest).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_new_in_a_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        done = tk_subprocess("new", locked / "digits", "--defaults")
    finally:
        locked.chmod(0o755)
    assert_one_sentence(done, 1, f"{locked} is not writable")
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize(
    "args, words",
    [
        (["--data", "package_name=Not Valid"], ["not a valid Python package name"]),
        (["--framework", "jax"], ["'jax' is not in"]),
        (["--data", "python_version=2.7"], ["'2.7' is not in"]),
        (["--data", "no_such_question=1"], ['asks no question "no_such_question"']),
        (["--data", "novalue"], ["not of the form key=value"]),
    ],
)
def test_invalid_answers_to_new_are_usage_errors(tmp_path, args, words):
    done = tk_subprocess("new", tmp_path / "digits", "--defaults", *args)
    assert_one_sentence(done, 2, *words)
    assert list(tmp_path.iterdir()) == []


def test_jobs_zero_is_a_usage_error(tmp_path):
    assert_one_sentence(tk_subprocess("update", tmp_path, "--jobs", "0"), 2, "--jobs")


def test_the_help_promises_these_exit_codes():
    assert "2 for a usage error" in tk_subprocess("--help").stdout
