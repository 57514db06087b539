"""``tutorkit lock``: requirements.lock, the complete hashed lock of a companion repo.

requirements.txt holds the direct pins (the template's, and ``-e .[dev]``, which brings in what
the author added to pyproject.toml); requirements.lock pins every package they pull in, each with
the sha256 of every file of that version on the index, as uv resolves it::

    uv pip compile --generate-hashes --exclude-newer DATE
        --python-version X.Y --python-platform x86_64-manylinux_2_28

for Linux x86-64 (GitHub's runners, Colab, Binder), the repo's Python. The date is the index
"as of" which everything is resolved; it is written in the lock's first lines (``tutorkit lock
--date DATE``), and the same command on the same requirements gives the same lock, byte for
byte. Without ``--date`` the recorded date is kept, so adding a dependency does not move the
others; ``--date`` with a later day moves everything to what the index had that day.

requirements.txt's index lines (PyTorch's CPU index) are passed to uv and copied to the top of
the lock, so pip finds ``torch==…+cpu`` where the reader installs. ``--wheels DIR`` takes the
wheels in DIR instead of those index lines (a machine that cannot reach PyTorch's index, with
the same wheel on disk: the hash is the file's, so the lock is the same).

constraints.txt is the lock without its hashes, each pin guarded by the platform the lock was
resolved for (``sys_platform == "linux" and platform_machine == "x86_64" and python_version ==
"X.Y"``). requirements.txt and environment.yml's pip section name it (``-c constraints.txt``):
pip cannot hash-check an editable install (``-e .``) in the run that installs the hashed lock,
so the one-command installs get the lock's versions, exactly, from the constraints, and every
other platform gets the direct pins, as pip ignores a constraint whose marker is false.
``tutorkit lock`` writes both files, together, through the one writer.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tutorkit.deps import NEEDS_EXTRA, REQUIREMENTS, _python
from tutorkit.errors import TutorkitError, UsageError, one_line
from tutorkit.land import Write, sha256, write_files
from tutorkit.untrusted import UntrustedInput, repo_file

LOCK = "requirements.lock"
CONSTRAINTS = "constraints.txt"
CONSTRAINTS_LINE = f"-c {CONSTRAINTS}"
PLATFORM = "x86_64-manylinux_2_28"
# The platform a lock is resolved for, as a pip environment marker (constraints.txt's guard).
PLATFORM_MARKER = (
    'sys_platform == "linux" and platform_machine == "x86_64" and python_version == "{python}"'
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RECORDED = re.compile(r"^#\s+tutorkit lock --date (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
INDEX_OPTION = re.compile(r"^\s*(--extra-index-url|--index-url)[\s=]+(\S+)\s*$")


@dataclass
class Locked:
    """What `tutorkit lock` did for one repo."""

    repo: str
    date: str
    python: str
    packages: int
    changed: bool
    text: str


def recorded_date(lock_text: str) -> str | None:
    """The ``--exclude-newer`` date a lock records in its header (None when it has none)."""
    found = RECORDED.search(lock_text)
    return found[1] if found else None


def split_index_lines(requirements: str) -> tuple[list[tuple[str, str]], str]:
    """requirements.txt's index options ((option, url) pairs) and the rest of its lines, less
    the line naming constraints.txt (the old lock would hold a new resolution back)."""
    options, rest = [], []
    for line in requirements.splitlines():
        match = INDEX_OPTION.match(line)
        if match:
            options.append((match[1], match[2]))
        elif line.strip() != CONSTRAINTS_LINE:
            rest.append(line)
    return options, "\n".join(rest) + "\n"


def constraints_of(lock_text: str, python: str) -> str:
    """constraints.txt for ``lock_text``: each pin without its hashes, guarded by the platform
    and Python the lock was resolved for (elsewhere pip ignores it)."""
    marker = (
        f'sys_platform == "linux" and platform_machine == "x86_64" and python_version == "{python}"'
    )
    pins = re.findall(r"^([A-Za-z0-9][^ \n;\\]*==[^ \n;\\]+)", lock_text, re.MULTILINE)
    date = recorded_date(lock_text) or "its recorded date"
    header = (
        f"# requirements.lock's versions without its hashes (tutorkit lock, as of {date}), for\n"
        "# the one-command installs (requirements.txt, environment.yml), which name this file:\n"
        f"# on Linux x86-64 with Python {python} they install the lock exactly; elsewhere pip\n"
        "# ignores these lines and installs the direct pins. Regenerate: tutorkit lock.\n"
    )
    return header + "".join(f"{pin}; {marker}\n" for pin in pins)


def _project_name(repo: Path) -> str:
    try:
        data = tomllib.loads(repo_file(repo, repo / "pyproject.toml").decode("utf-8"))
        return str(data["project"]["name"])
    except (UntrustedInput, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError):
        raise TutorkitError(
            f"{repo} has no readable pyproject.toml with a [project] name: "
            "tutorkit lock locks a companion repo's package."
        ) from None


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise TutorkitError(NEEDS_EXTRA) from None
    return find_uv_bin()


def resolve(repo: Path, date: str, wheels: str | None = None) -> str:
    """The lock of ``repo``'s requirements.txt as of ``date`` (index lines first)."""
    if not (repo / REQUIREMENTS).is_file():
        raise TutorkitError(f"{repo} has no {REQUIREMENTS} to lock: tutorkit lock locks its pins.")
    text = repo_file(repo, repo / REQUIREMENTS).decode("utf-8", errors="replace")
    index_options, requirements = split_index_lines(text)
    command = [_uv(), "pip", "compile", "-", "--quiet", "--no-annotate", "--generate-hashes"]
    command += ["--exclude-newer", date, "--python-version", _python(repo)]
    command += ["--python-platform", PLATFORM, "--index-strategy", "unsafe-best-match"]
    command += ["--no-emit-package", _project_name(repo)]
    command += ["--custom-compile-command", f"tutorkit lock --date {date}"]
    command += ["--find-links", wheels] if wheels else [a for pair in index_options for a in pair]
    done = subprocess.run(
        command, input=requirements, cwd=repo, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise TutorkitError(
            f"uv could not lock {repo / REQUIREMENTS} as of {date}: "
            f"{one_line(done.stderr)[-400:]}; nothing was written."
        )
    return "".join(f"{option} {url}\n" for option, url in index_options) + done.stdout


def _date(repo: Path, date: str | None) -> str:
    if date:
        if not DATE.match(date):
            raise UsageError(f"--date {date!r} is not a date: give it as YYYY-MM-DD.")
        return date
    if (repo / LOCK).is_file():
        found = recorded_date(repo_file(repo, repo / LOCK).decode("utf-8", errors="replace"))
        if found:
            return found
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def lock(repo_arg: str, date: str | None = None, wheels: str | None = None, check=False) -> Locked:
    """Write (or, with ``check``, only compare) ``repo``'s requirements.lock."""
    repo = Path(repo_arg).expanduser().resolve()
    when = _date(repo, date)
    text = resolve(repo, when, wheels)
    path = repo / LOCK
    packages = len(re.findall(r"^[A-Za-z0-9][^ \n]*==", text, re.MULTILINE))
    constraints = constraints_of(text, _python(repo))
    writes = [_write(repo, LOCK, text), _write(repo, CONSTRAINTS, constraints)]
    writes = [write for write in writes if write]
    found = Locked(str(repo), when, _python(repo), packages, bool(writes), text)
    if check and found.changed:
        raise TutorkitError(
            f"{path} or {CONSTRAINTS} is not what requirements.txt resolves to as of {when}: "
            f"run `tutorkit lock` and commit {LOCK} and {CONSTRAINTS}."
        )
    if writes and not check:
        write_files(repo, writes)
    return found


def _write(repo: Path, name: str, text: str):
    """The write that makes ``name`` hold ``text`` (None: it does already)."""
    path = repo / name
    new = text.encode("utf-8")
    if not path.is_file():
        return Write(name, new)
    if repo_file(repo, path) == new:
        return None
    return Write(name, new, expected=sha256(path))


def lock_tools(requirements: str, date: str, command: str) -> str:
    """The hashed lock of CI tools (``requirements``: pinned lines), as of ``date``, for every
    Python from 3.11 and every platform (``--universal``: the workflows run on any Python the
    repo chose). ``command`` is what the lock's header says made it."""
    uv = [_uv(), "pip", "compile", "-", "--quiet", "--no-annotate", "--generate-hashes"]
    uv += ["--universal", "--python-version", "3.11", "--exclude-newer", date]
    uv += ["--custom-compile-command", command]
    done = subprocess.run(uv, input=requirements, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TutorkitError(f"uv could not lock the tools as of {date}: {one_line(done.stderr)}")
    return done.stdout
