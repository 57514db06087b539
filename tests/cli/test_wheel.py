"""`tutorkit new` from a built wheel: the template travels inside the package."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_support import snapshot
from support import CHECKOUT

SCRIPT = """
import sys
from tutorkit.cli import main
from tutorkit.template import embedded_template_dir
print(embedded_template_dir())
sys.exit(main(["new", sys.argv[1], "--defaults"]))
"""


@pytest.mark.slow
def test_new_from_an_installed_wheel(tmp_path, tk, template, monkeypatch):
    """Build the wheel (hatchling from PyPI), install it alone, create a repo from it."""
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            tmp_path / "dist",
            CHECKOUT,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {built.stderr.strip().splitlines()[-1:]}")
    [wheel] = (tmp_path / "dist").glob("tutorkit-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site, wheel],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "TUTORKIT_TEMPLATE_URL": template}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, tmp_path / "wheel" / "digits"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == str(site / "tutorkit" / "template")
    monkeypatch.setenv("TUTORKIT_TEMPLATE_URL", template)
    # The same folder name (the repo's default name), in another folder.
    assert tk("new", tmp_path / "checkout" / "digits", "--defaults")[0] == 0
    wheel_files = snapshot(tmp_path / "wheel" / "digits")["files"]
    assert wheel_files == snapshot(tmp_path / "checkout" / "digits")["files"]
