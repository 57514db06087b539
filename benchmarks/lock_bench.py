"""The lock of a generated repo: its size, its resolution time, and installing from it vs from
requirements.txt, in the same run, each into a fresh venv.

    python benchmarks/lock_bench.py REPO [--wheels DIR]

REPO: a rendered companion repo (Python 3.11, with its requirements.lock). --wheels DIR: where
torch's CPU wheel is when PyTorch's CPU index is unreachable (pip's find-links folder); the
index line is then dropped from both files, as tests/support.py does. Prints one JSON object:
``resolve_s`` (``tutorkit lock --check``, uv's cache as it is), ``lock_bytes``, ``packages``,
``install_lock_s`` (``pip install --require-hashes -r requirements.lock`` then the package with
--no-deps), ``install_requirements_s`` (``pip install -r requirements.txt``, which installs the
lock's versions through constraints.txt), ``install_direct_pins_s`` (the same without the
constraints line: the direct pins, everything else as the index has it today) and the ratios.
pip's download cache is shared: run it twice and read the second run for warm-cache numbers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from tutorkit.lock import CONSTRAINTS, CONSTRAINTS_LINE, LOCK, lock

INDEX_LINE = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _without_index(path: Path, dest: Path) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines()
    dest.write_text("\n".join(line for line in lines if line.strip() != INDEX_LINE) + "\n")
    return dest


def _timed_install(env: Path, repo: Path, *commands: list[str]) -> float:
    venv.EnvBuilder(with_pip=True).create(env)
    start = time.perf_counter()
    for args in commands:
        pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
        subprocess.run(pip, cwd=repo, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--wheels", metavar="DIR")
    args = parser.parse_args()
    repo = args.repo.resolve()
    start = time.perf_counter()
    locked = lock(str(repo), wheels=args.wheels, check=True)
    resolve = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        lock_file = _without_index(repo / LOCK, root / "requirements.lock")
        requirements = _without_index(repo / "requirements.txt", root / "requirements.txt")
        (root / CONSTRAINTS).write_bytes((repo / CONSTRAINTS).read_bytes())
        direct = root / "direct-pins.txt"
        direct.write_text(requirements.read_text().replace(f"{CONSTRAINTS_LINE}\n", ""))
        from_lock = _timed_install(
            root / "lock",
            repo,
            ["--require-hashes", "-r", str(lock_file)],
            ["--no-deps", "-e", "."],
        )
        from_requirements = _timed_install(root / "req", repo, ["-r", str(requirements)])
        from_direct = _timed_install(root / "direct", repo, ["-r", str(direct)])
    result = {
        "resolve_s": round(resolve, 2),
        "lock_bytes": len(locked.text.encode()),
        "packages": locked.packages,
        "install_lock_s": round(from_lock, 1),
        "install_requirements_s": round(from_requirements, 1),
        "install_direct_pins_s": round(from_direct, 1),
        "lock_over_requirements": round(from_lock / from_requirements, 2),
        "lock_over_direct_pins": round(from_lock / from_direct, 2),
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
