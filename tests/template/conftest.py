"""Fixtures for the template tests: render with real Copier, install and run the result."""

from __future__ import annotations

import os
import subprocess
import venv
from collections.abc import Callable
from pathlib import Path

import copier
import pytest
from support import TEMPLATE_TAG

FRAMEWORKS = ("pytorch", "tensorflow")
PYTORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"

Render = Callable[..., Path]


@pytest.fixture(scope="session")
def render(template_repo) -> Render:
    """``render(dest, **answers)``: ``copier copy --defaults`` of the tagged template."""

    def _render(dest: Path, **answers) -> Path:
        copier.run_copy(
            str(template_repo),
            dest,
            data=answers,
            defaults=True,
            quiet=True,
            vcs_ref=TEMPLATE_TAG,
        )
        return dest

    return _render


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def pip_requirements(repo: Path) -> str:
    """requirements.txt as pip reads it here, where PyPI is the only reachable index.

    The generated file sends pip to PyTorch's CPU wheel index (the right default on a
    laptop or on GitHub); this machine reaches only PyPI, which serves the same CPU
    wheel of torch 2.13.0. Nothing else is changed.
    """
    lines = (repo / "requirements.txt").read_text().splitlines()
    return "\n".join(line for line in lines if line.strip() != PYTORCH_CPU_INDEX) + "\n"


class InstalledRepo:
    """A rendered companion repo with its own virtual environment, installed from its files."""

    def __init__(self, path: Path, env_dir: Path):
        self.path = path
        self.python = env_dir / "bin" / "python"
        self.package = copier_answers(path)["package_name"]

    def run(self, *args: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
        environment = {
            name: value
            for name, value in os.environ.items()
            if name not in {"TUTORIAL_PROFILE", "VIRTUAL_ENV", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL"}
        }
        return subprocess.run(
            [str(self.python), *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**environment, **env},
        )


def copier_answers(repo: Path) -> dict:
    import yaml

    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def install(repo: Path, env_dir: Path) -> InstalledRepo:
    """A fresh venv with the repo's pinned requirements (and the repo itself, editable)."""
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    requirements = env_dir / "requirements.txt"
    requirements.write_text(pip_requirements(repo))
    done = subprocess.run(
        [
            str(env_dir / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(requirements),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    return InstalledRepo(repo, env_dir)


@pytest.fixture(scope="session")
def installations(tmp_path_factory, render) -> Callable[[str], InstalledRepo]:
    """``installations(framework)``: a rendered repo installed in its own venv, once per session."""
    done: dict[str, InstalledRepo] = {}

    def get(framework: str) -> InstalledRepo:
        if framework not in done:
            root = tmp_path_factory.mktemp(f"installed-{framework}")
            done[framework] = install(render(root / "repo", framework=framework), root / "venv")
        return done[framework]

    return get


@pytest.fixture(scope="session", params=FRAMEWORKS)
def installed(request, installations) -> InstalledRepo:
    """One generated repo per framework, installed in its own venv."""
    return installations(request.param)
