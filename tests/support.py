"""Helpers shared by the test suites: git, and a git copy of this checkout's template."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import tutorkit

CHECKOUT = Path(__file__).resolve().parents[1]
TEMPLATE_TAG = f"v{tutorkit.__version__}"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd``; its stdout, stripped. Fails the test loudly on a git error."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout.strip()


def copy_template(dest: Path) -> Path:
    """This checkout's template (copier.yml + templates/), as a fresh git repo at ``dest``."""
    dest.mkdir(parents=True)
    shutil.copy2(CHECKOUT / "copier.yml", dest / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", dest / "templates")
    git(dest, "init", "--quiet")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "Template as in this checkout")
    return dest
