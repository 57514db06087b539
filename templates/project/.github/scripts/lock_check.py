"""Fail when the installed environment is not the lock: the proof that CI ran what readers install.

    python .github/scripts/lock_check.py requirements.lock [--allow NAME ...]

Compares every distribution installed in this Python with requirements.lock: a locked package
that is missing or at another version, and an installed one the lock does not name, are each
reported on one line, and the exit status is 1. pip's own tools and the names given with --allow
(this tutorial's package, installed with --no-deps) are not in the lock and are allowed.
"""

import argparse
import re
import sys
from importlib import metadata

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
ALWAYS_ALLOWED = {"pip", "setuptools", "wheel"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(text: str) -> dict[str, str]:
    """Name -> version of each ``name==version`` line of a pip requirements lock."""
    pins = (PIN.match(line) for line in text.splitlines())
    return {normalized(pin[1]): pin[2] for pin in pins if pin}


def installed_versions() -> dict[str, str]:
    return {normalized(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(locked: dict[str, str], installed: dict[str, str], allowed: set[str]) -> list:
    """One sentence per package where the environment and the lock disagree."""
    found = []
    for name, version in sorted(locked.items()):
        if name not in installed:
            found.append(f"{name}: the lock pins {version}, and it is not installed")
        elif installed[name] != version:
            found.append(f"{name}: the lock pins {version}, and {installed[name]} is installed")
    for name in sorted(set(installed) - set(locked) - allowed):
        found.append(f"{name}: {installed[name]} is installed, and the lock does not name it")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Fail when this environment is not the lock.")
    parser.add_argument("lock", help="the lock file (requirements.lock)")
    parser.add_argument("--allow", action="append", default=[], help="a package not locked")
    args = parser.parse_args(argv)
    with open(args.lock, encoding="utf-8") as handle:
        locked = locked_versions(handle.read())
    allowed = ALWAYS_ALLOWED | {normalized(name) for name in args.allow}
    found = differences(locked, installed_versions(), allowed)
    for line in found:
        print(f"::error title=environment differs from {args.lock}::{line}")
    if found:
        print(f"{len(found)} packages differ from {args.lock}: install it with", end=" ")
        print(f"`pip install --require-hashes -r {args.lock}` in a fresh environment.")
        return 1
    print(f"The environment is {args.lock}: {len(locked)} packages at the locked versions.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
