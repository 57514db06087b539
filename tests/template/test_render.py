"""Every variant of the template renders into exactly the promised, valid files (real Copier)."""

from __future__ import annotations

import ast
import itertools
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import (
    FRAMEWORKS,
    PYTHON_VERSIONS,
    PYTORCH_CPU_INDEX,
    TEMPLATE_TAG,
    copier_answers,
    files_of,
)

LICENSES = {
    "MIT": "MIT License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Apache-2.0": "Apache License",
}
ARTICLES = ("", "https://example.org/blog/digits-cnn")
LAYOUTS = ("starter", "infrastructure")
TRACKINGS = ("none", "mlflow")
# The valid framework x task pairs (Transformers supports PyTorch only: copier.yml refuses
# tensorflow x text-classification, tested below).
FRAMEWORK_TASKS = [
    ("pytorch", "image-classification"),
    ("tensorflow", "image-classification"),
    ("pytorch", "text-classification"),
]
# Jinja delimiters left in the output (with the space or dash Jinja style puts inside them;
# `${{ ... }}` is GitHub Actions syntax, and `{x:.0%}` a Python format spec, not Jinja).
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{[-\s]|\{%[-\s]|[-\s]%\}|\{#[-\s]|[-\s]#\}")


def ships_lock(framework: str, python: str) -> bool:
    return python == "3.11" or framework == "tensorflow"


def expected_files(
    package: str,
    task: str = "image-classification",
    tracking: str = "none",
    python="3.11",
    framework="pytorch",
) -> set[str]:
    modules = ("__init__", "config", "data", "engine", "metrics", "model", "plots", "runs", "train")
    tests = ("conftest", "test_config", "test_data", "test_dependencies", "test_model")
    tests += ("test_train",)
    if task == "text-classification":  # no image plots; the demo's sentences instead
        modules = tuple(module for module in modules if module != "plots") + ("sentences.csv",)
    if tracking == "mlflow":
        modules, tests = (*modules, "tracking"), (*tests, "test_tracking")
    return {
        ".copier-answers.yml",
        "AUTHORING.md",
        "CITATION.cff",
        "runtime.txt",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/workflows/colab.yml",
        ".github/workflows/dependency-drift.yml",
        ".github/workflows/notebooks.yml",
        ".github/workflows/template-update.yml",
        ".github/requirements-tools.lock",
        ".github/requirements-tutorkit.lock",
        ".github/scripts/drift_bisect.py",
        ".github/scripts/job_report.py",
        ".github/scripts/lock_check.py",
        ".github/scripts/notebooks.py",  # the notebook runner, which the starter's pytest loads
        ".github/scripts/template_update.py",
        ".github/scripts/tracking_issue.py",
        "LICENSE",
        "README.md",
        "environment.yml",
        "pyproject.toml",
        "requirements.txt",
        # The shipped locks: every set on Python 3.11, TensorFlow's on 3.12 and 3.13 too.
        *(["requirements.lock", "constraints.txt"] if ships_lock(framework, python) else []),
        "configs/default.yaml",
        "configs/smoke.yaml",
        "notebooks/01-quickstart.ipynb",
        *(f"src/{package}/{module}" + ("" if "." in module else ".py") for module in modules),
        *(f"tests/{test}.py" for test in tests),
    }


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pinned(lines: list[str]) -> set[str]:
    return {line for line in lines if not line.startswith("-")}


def check_valid_files(repo: Path) -> None:
    """Every file parses as what it claims to be, and no Jinja syntax survived."""
    for path in sorted(repo.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(repo).as_posix()
        if path.suffix in {".yml", ".yaml", ".cff"}:
            assert yaml.safe_load(text) is not None, name
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".py":
            ast.parse(text, filename=name)
        elif path.suffix == ".ipynb":
            notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
            nbformat.validate(notebook)
            assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5), name
            ids = [cell.id for cell in notebook.cells]
            assert ids == [str(i) for i in range(len(ids))], f"{name}: cell ids {ids}"
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    assert cell.outputs == [] and cell.execution_count is None, name
                    ast.parse(cell.source, filename=f"{name}#{cell.id}")


def check_no_jinja_left(repo: Path) -> None:
    for path in repo.rglob("*"):
        if path.is_file():
            match = JINJA_LEFTOVER.search(path.read_text(encoding="utf-8"))
            assert match is None, (
                f"{path.relative_to(repo)}: Jinja left over near {match.group()!r}"
            )


def check_dependency_files_agree(repo: Path) -> None:
    """requirements.txt, environment.yml and pyproject.toml come from one list."""
    requirements = requirement_lines((repo / "requirements.txt").read_text())
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    (pip_section,) = [item for item in environment["dependencies"] if isinstance(item, dict)]
    assert pip_section["pip"] == requirements
    assert all("==" in line for line in pinned(requirements))
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    runtime = {
        line.split("==")[0] + line.partition(";")[1] + line.partition(";")[2]
        for line in pinned(requirements)
    }
    assert set(project["dependencies"]) <= runtime
    dev = {line.split("==")[0] for line in pinned(requirements)} - {
        line.split(";")[0] for line in project["dependencies"]
    }
    assert set(project["optional-dependencies"]["dev"]) == dev
    assert requirements[-1] == "-e .[dev]"
    answers = copier_answers(repo)
    assert f"python={answers['python_version']}" in environment["dependencies"]
    assert project["requires-python"] == f">={answers['python_version']}"


VARIANTS = list(itertools.product(FRAMEWORKS, LICENSES, PYTHON_VERSIONS, ARTICLES))
# Every answer of every question appears in one of these four; the fast suite renders them, the
# slow suite every combination.
COVERING = [
    ("pytorch", "MIT", "3.11", ARTICLES[0]),
    ("tensorflow", "BSD-3-Clause", "3.12", ARTICLES[1]),
    ("pytorch", "Apache-2.0", "3.13", ARTICLES[1]),
    ("tensorflow", "MIT", "3.13", ARTICLES[0]),
]
assert set(COVERING) <= set(VARIANTS) and all(
    {v[i] for v in COVERING} == {v[i] for v in VARIANTS} for i in range(4)
)


@pytest.mark.parametrize(
    ("framework", "license", "python", "article"),
    [v if v in COVERING else pytest.param(*v, marks=pytest.mark.slow) for v in VARIANTS],
)
def test_every_variant_renders_exact_valid_files(
    tmp_path, render, framework, license, python, article
):
    repo = render(
        tmp_path / "repo",
        framework=framework,
        license=license,
        python_version=python,
        article_url=article,
    )
    answers = copier_answers(repo)
    assert files_of(repo) == expected_files(
        answers["package_name"], python=python, framework=framework
    )
    check_valid_files(repo)
    check_no_jinja_left(repo)
    check_dependency_files_agree(repo)
    assert (repo / "LICENSE").read_text().lstrip().startswith(LICENSES[license])
    readme = (repo / "README.md").read_text()
    assert (f"]({article})" in readme) == bool(article)


INFRASTRUCTURE_FILES = {
    ".copier-answers.yml",
    ".pre-commit-config.yaml",
    ".github/workflows/colab.yml",  # TK112 on the notebooks' own pip lines, weekly
    ".github/workflows/notebooks.yml",
    ".github/workflows/template-update.yml",
    ".github/requirements-tools.lock",  # the hygiene job's pre-commit, hashed
    ".github/requirements-tutorkit.lock",  # what the workflows that run tutorkit install
    ".github/requirements-runner.lock",  # the notebook runner's tools, hashed
    ".github/scripts/job_report.py",
    ".github/scripts/notebooks.py",  # the notebook runner that reads notebooks.toml
    ".github/scripts/template_update.py",
    ".github/scripts/tracking_issue.py",
}


@pytest.mark.parametrize("tracking", TRACKINGS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("framework", "task"), FRAMEWORK_TASKS)
def test_every_framework_task_layout_and_tracking_renders_exact_valid_files(
    tmp_path, render, framework, task, layout, tracking
):
    """Every valid combination of framework x task x layout x tracking (tensorflow x text is
    refused: the next test)."""
    repo = render(
        tmp_path / "repo", framework=framework, task=task, layout=layout, tracking=tracking
    )
    answers = copier_answers(repo)
    chosen = (answers["framework"], answers["task"], answers["layout"], answers["tracking"])
    assert chosen == (framework, task, layout, tracking)
    if layout == "infrastructure":
        assert files_of(repo) == INFRASTRUCTURE_FILES
    else:
        assert files_of(repo) == expected_files(answers["package_name"], task, tracking)
        check_dependency_files_agree(repo)
        requirements = (repo / "requirements.txt").read_text().splitlines()
        assert ("mlflow==3.17.2" in requirements) == (tracking == "mlflow")
        ignored = (repo / ".gitignore").read_text().splitlines()
        assert {"runs/", "mlflow.db", "mlartifacts/"} <= set(ignored)
    check_valid_files(repo)
    check_no_jinja_left(repo)


def test_text_classification_with_tensorflow_is_refused_with_one_sentence(tmp_path, render):
    dest = tmp_path / "repo"
    with pytest.raises(ValueError) as raised:
        render(dest, framework="tensorflow", task="text-classification")
    assert str(raised.value) == (
        "Validation error for question 'task': The text-classification task fine-tunes with "
        "Hugging Face Transformers, which supports "
        "PyTorch only: choose framework pytorch, or task image-classification for tensorflow."
    )
    assert not dest.exists()


def test_text_classification_repo_pins_the_hugging_face_stack_and_ships_its_sentences(
    tmp_path, render
):
    repo = render(tmp_path / "repo", task="text-classification")
    answers = copier_answers(repo)
    package = answers["package_name"]
    # The task given up front picks the defaults of the questions asked before it.
    assert (answers["project_title"], package) == (
        "Review Sentiment with a Tiny BERT",
        "review_sentiment_with_a_tiny_bert",
    )
    assert answers["description"].startswith("Fine-tune a transformer")
    requirements = requirement_lines((repo / "requirements.txt").read_text())
    for name in ("torch", "transformers", "tokenizers", "safetensors", "accelerate"):
        assert any(line.startswith(f"{name}==") for line in requirements), name
    assert not any(line.startswith("tensorflow") for line in requirements)
    lines = (repo / f"src/{package}/sentences.csv").read_text().splitlines()
    assert any("CC0 1.0" in line for line in lines if line.startswith("#"))
    rows = [line for line in lines if not line.startswith("#")]
    assert rows[0] == "text,label" and len(rows) == 401
    assert {row.rsplit(",", 1)[1] for row in rows[1:]} == {"negative", "positive"}
    model = (repo / f"src/{package}/model.py").read_text()
    assert "AutoModelForSequenceClassification.from_pretrained(" in model
    assert "from_config(config)" in model
    engine = (repo / f"src/{package}/engine.py").read_text()
    assert "Trainer(" in engine and "TrainingArguments(" in engine
    image = render(tmp_path / "image")
    assert "transformers" not in (image / "requirements.txt").read_text()


def test_defaults_alone_give_a_pytorch_repo_that_plain_copier_update_can_follow(
    tmp_path, render, template_repo
):
    repo = render(tmp_path / "repo")
    answers = copier_answers(repo)
    assert answers["_commit"] == TEMPLATE_TAG
    assert answers["_src_path"] == str(template_repo)
    assert answers["framework"] == "pytorch"
    assert answers["package_name"] == "handwritten_digits_with_a_cnn"
    assert answers["repo_name"] == "handwritten-digits-with-a-cnn"
    requirements = (repo / "requirements.txt").read_text()
    assert PYTORCH_CPU_INDEX in requirements.splitlines()
    assert "torch==2.13.0" in requirements.splitlines()
    engine = (repo / "src/handwritten_digits_with_a_cnn/engine.py").read_text()
    assert "import torch" in engine and "tensorflow" not in engine


def test_tensorflow_repo_pins_cpu_tensorflow_and_no_torch(tmp_path, render):
    repo = render(tmp_path / "repo", framework="tensorflow")
    requirements = requirement_lines((repo / "requirements.txt").read_text())
    assert not any(line.startswith(("torch", "--extra-index-url")) for line in requirements)
    assert any(line.startswith("tensorflow-cpu==") for line in requirements)
    engine = (repo / f"src/{copier_answers(repo)['package_name']}/engine.py").read_text()
    assert "tensorflow" in engine and "torch" not in engine


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            {"package_name": "1digits"},
            'The package name "1digits" is not a valid Python package name',
        ),
        (
            {"package_name": "my-digits"},
            'The package name "my-digits" is not a valid Python package name',
        ),
        (
            {"package_name": "Digits"},
            'The package name "Digits" is not a valid Python package name',
        ),
        ({"package_name": "class"}, 'The package name "class" is a Python keyword'),
        ({"package_name": "torch"}, 'The package name "torch" would shadow a module'),
        # pytest puts .github/scripts on sys.path (the notebook runner): its scripts' names
        ({"package_name": "lock_check"}, 'The package name "lock_check" would shadow a module'),
        ({"package_name": "logging"}, "is a module of Python's standard library"),
        ({"package_name": "email"}, "is a module of Python's standard library"),
        ({"package_name": "digits_"}, 'The package name "digits_" cannot be installed by pip'),
        ({"package_name": "_digits"}, 'The package name "_digits" cannot be installed by pip'),
        ({"author_email": "ada@example.o"}, 'The e-mail "ada@example.o" is not an e-mail address'),
        (
            {"framework": "jax"},
            "Invalid choice for 'framework': 'jax' is not in ['pytorch', 'tensorflow']",
        ),
        ({"python_version": "2.7"}, "Invalid choice for 'python_version'"),
        (
            {"github_owner": "not a user"},
            'The GitHub owner "not a user" is not a valid GitHub user',
        ),
        ({"repo_name": "a/b"}, 'The repository name "a/b" is not a valid GitHub repository name'),
        (
            {"article_url": "example.org/post"},
            'The article URL "example.org/post" is not a web address',
        ),
        ({"author_email": "nobody"}, 'The e-mail "nobody" is not an e-mail address'),
        ({"project_title": "   "}, "The project title must not be empty."),
        ({"project_title": "Two\nlines"}, "The project title must be one line of text"),
        ({"author_name": "Ada\tLovelace"}, "The author's name must be one line of text"),
    ],
)
def test_bad_answers_are_refused_with_one_sentence_and_nothing_written(
    tmp_path, render, answers, message
):
    dest = tmp_path / "repo"
    with pytest.raises(ValueError) as raised:
        render(dest, **answers)
    assert message in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1
    assert not dest.exists()


def test_plain_copier_cli_refuses_a_bad_answer_and_writes_nothing(tmp_path, template_repo):
    dest = tmp_path / "repo"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--vcs-ref",
            TEMPLATE_TAG,
            "-d",
            "package_name=1digits",
            str(template_repo),
            str(dest),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert 'The package name "1digits" is not a valid Python package name' in done.stderr
    assert not dest.exists()


TITLE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        st.sampled_from(list("\"'\\{}%#$`<>&|ÜßéØ数字 -_")),
    ),
    min_size=1,
    max_size=40,
).filter(lambda title: title.strip())


# Each example is a real render (~0.3 s): generate, but do not spend minutes shrinking.
@pytest.mark.slow  # thirty renders: tens of seconds on two cores
@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(title=TITLE_TEXT, author=TITLE_TEXT)
def test_any_title_and_author_render_into_valid_files(tmp_path_factory, render, title, author):
    repo = render(
        tmp_path_factory.mktemp("title") / "repo", project_title=title, author_name=author
    )
    answers = copier_answers(repo)
    assert answers["project_title"] == title
    assert answers["package_name"].isidentifier()
    check_valid_files(repo)
    notebook = json.loads((repo / "notebooks/01-quickstart.ipynb").read_text())
    assert notebook["cells"][0]["source"][0] == f"# {title}\n"
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert project["authors"][0]["name"] == author
