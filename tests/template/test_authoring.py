"""The generated repo as the author's starting point: demo text marked and listed, dependencies in
one place (checked by the repo's own tests), a citation file, Binder's runtime, package names that
work, and a notebook that runs without its Colab cell. Real Copier renders; no installs."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import nbformat
import pytest
from support import (
    CHECKOUT,
    FRAMEWORKS,
    PYTHON_VERSIONS,
    copier_answers,
    git,
    pip_find_links,
    tool,
)

from tutorkit.cli import main

DEMO = "TUTORIAL-DEMO"
# Facts of the demo's data that tests meant for any data set must not assume.
DIGITS_FACTS = re.compile(r"1797|1,797|\b360\b|8x8|\(8, 8\)|range\(10\)|== 10\b")


def names_template():
    """templates/names.jinja as Copier imports it (its top-level lists)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(CHECKOUT)),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],  # as Copier has them
    )
    return environment.get_template("templates/names.jinja").module


def test_refused_names_cover_this_pythons_standard_library():
    stdlib = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    missing = sorted(stdlib - set(names_template().stdlib))
    assert not missing, f"add to `stdlib` in templates/names.jinja: {missing}"
    assert {"logging", "email", "json"} <= set(names_template().stdlib)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_demo_passages_are_marked_and_listed_by_the_guides_command(variants, framework, tmp_path):
    package = copier_answers(variants[framework, "3.11"])["package_name"]
    work = shutil.copytree(variants[framework, "3.11"], tmp_path / "repo")
    git(work, "init", "--quiet")
    git(work, "add", "--all")
    guide = (work / "AUTHORING.md").read_text()
    command = re.search(r"```bash\n(git grep [^\n]+)\n```", guide)[1]
    listed = subprocess.run(command, shell=True, cwd=work, capture_output=True, text=True).stdout
    marked = {line.split(":")[0] for line in listed.splitlines()}
    assert marked == {
        "README.md",
        "notebooks/01-quickstart.ipynb",
        "configs/default.yaml",
        f"src/{package}/data.py",
        f"src/{package}/model.py",
    }
    for path in re.findall(r"`((?:src|configs|tests|\.github)/[^`*]+)`", guide):
        assert (work / path.replace("{package}", package)).exists(), f"AUTHORING.md names {path}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_generated_tests_assume_nothing_about_the_demo_data(variants, framework):
    repo = variants[framework, "3.11"]
    for path in sorted((repo / "tests").glob("*.py")):
        found = DIGITS_FACTS.findall(path.read_text())
        assert not found, f"{path.name} assumes the digits: {found}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_placeholder_where_the_package_name_is_known(variants, framework):
    repo = variants[framework, "3.11"]
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = path.read_text()
        assert "<package>" not in text and "<pkg>" not in text, path.relative_to(repo)


def notebook(repo: Path) -> nbformat.NotebookNode:
    return nbformat.read(repo / "notebooks" / "01-quickstart.ipynb", as_version=4)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_notebook_has_a_papermill_parameters_cell_and_needs_no_colab_cell(variants, framework):
    cells = [
        cell for cell in notebook(variants[framework, "3.11"]).cells if cell.cell_type == "code"
    ]
    colab, *rest = cells
    (parameters,) = [cell for cell in rest if "parameters" in cell.metadata.get("tags", [])]
    assert re.fullmatch(r"profile = None\s*#.*", parameters.source)
    assert rest.index(parameters) == 0, "the parameters come before any code that uses them"
    only_colab = {
        node.id
        for node in ast.walk(ast.parse(colab.source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    } | {
        alias.name
        for node in ast.walk(ast.parse(colab.source))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    for cell in rest:
        used = {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
        assert not used & only_colab, f"cell {cell.id} uses {used & only_colab} from the Colab cell"


@pytest.mark.parametrize("python", PYTHON_VERSIONS)
def test_binder_falls_back_to_the_same_python(variants, python):
    repo = variants["pytorch", python]
    assert (repo / "runtime.txt").read_text() == f"python-{python}\n"


CITATION_ANSWERS = {
    "defaults": {},
    "full": {
        "project_title": 'Über "digits": a CNN',
        "author_name": "Ada King Lovelace",
        "author_email": "ada@example.org",
        "article_url": "https://example.org/post?id=1",
        "github_owner": "ada-lab",
        "license": "Apache-2.0",
    },
    "one-name": {"author_name": "Hypatia", "description": "", "project_title": "Logging"},
}


@pytest.fixture(scope="module")
def citations(render, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("citations")
    return {name: render(root / name, **answers) for name, answers in CITATION_ANSWERS.items()}


def test_default_package_name_steps_around_the_standard_library(citations):
    assert copier_answers(citations["one-name"])["project_title"] == "Logging"
    assert copier_answers(citations["one-name"])["package_name"] == "logging_tutorial"


def test_citation_file_is_valid_cff(citations):
    """Validated against the Citation File Format 1.2.0 schema (what cffconvert --validate uses)."""
    files = [str(repo / "CITATION.cff") for repo in citations.values()]
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.citation-file-format", *files],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_citation_file_carries_the_answers(citations):
    import yaml

    full = yaml.safe_load((citations["full"] / "CITATION.cff").read_text())
    assert full["title"] == 'Über "digits": a CNN'
    assert full["authors"] == [
        {"given-names": "Ada King", "family-names": "Lovelace", "email": "ada@example.org"}
    ]
    assert full["license"] == "Apache-2.0" and full["url"] == "https://example.org/post?id=1"
    repo_name = copier_answers(citations["full"])["repo_name"]
    assert full["repository-code"] == f"https://github.com/ada-lab/{repo_name}"
    one = yaml.safe_load((citations["one-name"] / "CITATION.cff").read_text())
    assert one["authors"] == [{"name": "Hypatia"}] and "abstract" not in one


@pytest.mark.slow
def test_citation_file_passes_cffconvert(citations, tmp_path):
    """cffconvert itself (it pins jsonschema<4: a venv of its own, not the test extra)."""
    import venv

    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    bin_dir = tmp_path / "venv" / "bin"
    install = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "cffconvert==2.0.0"]
    assert subprocess.run(install, capture_output=True).returncode == 0
    for repo in citations.values():
        done = subprocess.run(
            [str(bin_dir / "cffconvert"), "--validate", "-i", str(repo / "CITATION.cff")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def run_dependency_tests(repo: Path) -> subprocess.CompletedProcess:
    """The generated tests/test_dependencies.py, run by pytest (it needs no installed repo)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
        + ["tests/test_dependencies.py"],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


DRIFTS = {
    "requirements only": (
        "requirements.txt",
        "-e .[dev]",
        "pandas==2.2.3\n-e .[dev]",
        "requirements.txt pins pandas, which pyproject.toml does not list: add it, pinned, to "
        "[project] dependencies in pyproject.toml",
    ),
    "unpinned": (
        "pyproject.toml",
        "dependencies = [\n",
        'dependencies = [\n  "pandas",\n',
        "pyproject.toml lists pandas without a version: write it as pandas==VERSION",
    ),
    "pinned twice": (
        "pyproject.toml",
        '  "numpy",\n',
        '  "numpy==2.0.0",\n',
        "numpy is pinned at 2.0.0 in pyproject.toml and at",
    ),
    "conda": (
        "environment.yml",
        "  - pip\n",
        "  - pip\n  - pandas\n",
        "environment.yml installs ['pandas'] from conda: add them to [project] dependencies",
    ),
    "python": ("runtime.txt", "python-3.11", "python-3.12", "runtime.txt"),
    "lock behind": (
        "pyproject.toml",
        "dependencies = [\n",
        'dependencies = [\n  "pandas==2.2.3",\n',
        "pandas is pinned at 2.2.3, and requirements.lock has None: run `tutorkit lock`",
    ),
}


@pytest.fixture
def fresh(variants, tmp_path) -> Path:
    """A copy of the default PyTorch render, for a test to edit."""
    return shutil.copytree(variants["pytorch", "3.11"], tmp_path / "repo")


@pytest.mark.slow  # runs the generated repo's own tests, and uv against the package index
def test_generated_dependency_tests_pass_and_take_a_pinned_pyproject_dependency(fresh):
    """The author's way (AUTHORING.md): the dependency in pyproject.toml, then `tutorkit lock`
    (torch's CPU wheel from pip's find-links folder: PyTorch's index is unreachable here)."""
    assert run_dependency_tests(fresh).returncode == 0
    edit(fresh / "pyproject.toml", "dependencies = [\n", 'dependencies = [\n  "pandas==2.2.3",\n')
    assert "run `tutorkit lock`" in run_dependency_tests(fresh).stdout
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"]):  # an author's repo
        subprocess.run(["git", *args], cwd=fresh, check=True, capture_output=True)
    wheels = ["--wheels", pip_find_links()] if pip_find_links() else []
    assert main(["lock", str(fresh), *wheels]) == 0
    done = run_dependency_tests(fresh)
    assert done.returncode == 0, done.stdout


def dependency_failures(repo: Path) -> list[str]:
    """The messages of the generated tests/test_dependencies.py that fail, run in this process
    (the same functions pytest runs in the repo's CI; faster than a pytest per case)."""
    spec = importlib.util.spec_from_file_location("drift", repo / "tests" / "test_dependencies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    failures = []
    for name in dir(module):
        if name.startswith("test_"):
            try:
                getattr(module, name)()
            except AssertionError as error:
                failures.append(str(error))
    return failures


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_generated_dependency_tests_fail_with_the_fix_when_files_disagree(fresh, drift):
    assert dependency_failures(fresh) == []
    name, old, new, message = DRIFTS[drift]
    edit(fresh / name, old, new)
    failures = dependency_failures(fresh)
    assert any(message in failure for failure in failures), failures


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_generated_package_keeps_functions_simple(variants, framework):
    """ruff's C90 rule with max-complexity 10 is part of the generated repo's ruff config, which
    test_precommit.py::test_fresh_render_passes_ruff runs on every variant."""
    import tomllib

    ruff = tomllib.loads((variants[framework, "3.11"] / "pyproject.toml").read_text())["tool"][
        "ruff"
    ]
    assert "C90" in ruff["lint"]["select"]
    assert ruff["lint"]["mccabe"]["max-complexity"] == 10


def test_readme_says_when_its_links_name_the_placeholder_owner(variants, citations):
    placeholder = (variants["pytorch", "3.11"] / "README.md").read_text()  # --defaults
    assert "**Author, before you publish:**" in placeholder
    assert "copier update --defaults --vcs-ref=:current: -d github_owner=YOUR-NAME" in placeholder
    real = (citations["full"] / "README.md").read_text()  # github_owner=ada-lab
    assert "before you publish" not in real and "your-github-name" not in real


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_readme_jupyter_line_works_as_pasted(variants, framework):
    readme = (variants[framework, "3.11"] / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    (jupyter,) = [block for block in blocks if "jupyter lab" in block]
    assert jupyter.splitlines()[0] == "pip install jupyterlab", "jupyter is not in requirements"


@pytest.mark.parametrize(
    ("framework", "settings"),
    [
        ("pytorch", ("use_deterministic_algorithms(True)", '"CUBLAS_WORKSPACE_CONFIG", ":4096:8"')),
        ("tensorflow", ("enable_op_determinism()", "set_random_seed(seed)")),
    ],
)
def test_each_framework_asks_for_deterministic_kernels_on_every_device(
    variants, framework, settings
):
    """What configuration.md says engine.setup does (a GPU cannot be tried here)."""
    package = copier_answers(variants[framework, "3.11"])["package_name"]
    engine = (variants[framework, "3.11"] / "src" / package / "engine.py").read_text()
    for setting in settings:
        assert setting in engine
