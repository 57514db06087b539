"""`tutorkit check` rules about the author's own tutorial: dependencies in one place (TK103),
demo text replaced (TK107) and the GitHub owner named (TK108). Real generated repos."""

from __future__ import annotations

import re

import pytest
from cli_support import commit_all


def check(tk, repo):
    import json

    code, out, _ = tk("check", repo, "--json")
    return code, {r["id"]: r for r in json.loads(out)}


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def add_to_requirements(repo):
    edit(repo / "requirements.txt", "-e .[dev]", "pandas==2.2.3\n-e .[dev]")


def add_to_both_environment_files(repo):
    add_to_requirements(repo)
    pandas = '      - "pandas==2.2.3"\n'
    edit(repo / "environment.yml", "      - -e .[dev]", pandas + "      - -e .[dev]")


def add_unpinned_to_pyproject(repo):
    edit(repo / "pyproject.toml", "dependencies = [\n", 'dependencies = [\n  "pandas",\n')


def pin_differently_in_pyproject(repo):
    edit(repo / "pyproject.toml", '  "numpy",\n', '  "numpy==2.0.0",\n')


def add_to_conda(repo):
    edit(repo / "environment.yml", "  - pip\n", "  - pip\n  - pandas\n")


def drop_index_from_environment(repo):
    text = (repo / "environment.yml").read_text()
    (repo / "environment.yml").write_text(re.sub(r"\n +- --extra-index-url \S+", "", text))


@pytest.mark.parametrize(
    "breaker, problem",
    [
        (add_to_requirements, "pandas: requirements.txt 2.2.3, environment.yml absent"),
        (add_to_both_environment_files, "requirements.txt pins pandas, which pyproject.toml"),
        (add_unpinned_to_pyproject, "pyproject.toml lists pandas without a pin"),
        (pin_differently_in_pyproject, "numpy: pyproject.toml 2.0.0, requirements.txt"),
        (add_to_conda, "environment.yml installs pandas from conda"),
        (drop_index_from_environment, "pip options differ"),
    ],
)
def test_dependencies_in_more_than_one_place_fail_tk103(make_repo, tk, breaker, problem):
    repo = make_repo()
    breaker(repo)
    code, results = check(tk, repo)
    assert code == 1
    assert results["TK103"]["result"] == "fail"
    assert any(problem in p for p in results["TK103"]["problems"]), results["TK103"]["problems"]
    assert "pyproject.toml" in results["TK103"]["fix"]


def test_a_dependency_added_in_pyproject_only_passes_tk103(make_repo, tk):
    repo = make_repo()
    edit(repo / "pyproject.toml", "dependencies = [\n", 'dependencies = [\n  "pandas==2.2.3",\n')
    assert check(tk, repo)[1]["TK103"]["result"] == "pass"


def switch_data(repo):
    """What AUTHORING.md asks first: a data set of one's own, named in configs/default.yaml."""
    edit(repo / "configs" / "default.yaml", "dataset: digits", "dataset: flowers")


def test_demo_text_warns_only_once_the_data_is_the_authors(make_repo, tk):
    repo = make_repo()
    assert check(tk, repo)[1]["TK107"]["result"] == "pass"  # still the demo: nothing to say
    switch_data(repo)
    commit_all(repo, "My data")
    code, results = check(tk, repo)
    assert code == 0, "a warning leaves the exit status 0"
    assert results["TK107"]["result"] == "warn"
    problems = " ".join(results["TK107"]["problems"])
    for name in ("README.md", "notebooks/01-quickstart.ipynb", "configs/default.yaml"):
        assert f"{name} still has" in problems
    assert "TUTORIAL-DEMO" in results["TK107"]["fix"]


def test_demo_text_replaced_passes(make_repo, tk):
    repo = make_repo()
    switch_data(repo)
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts and "TUTORIAL-DEMO" in path.read_text():
            path.write_text(path.read_text().replace("TUTORIAL-DEMO", "my text"))
    assert check(tk, repo)[1]["TK107"]["result"] == "pass"


@pytest.mark.slow  # plain copier update in a subprocess
def test_placeholder_owner_warns_and_the_documented_fix_clears_it(make_repo, tk):
    import subprocess
    import sys

    repo = make_repo()
    results = check(tk, repo)[1]
    assert results["TK108"]["result"] == "warn"
    assert any("README.md names the placeholder" in p for p in results["TK108"]["problems"])
    # The fix the rule names: copier update with the real owner (no template change needed),
    # then the two files that are the author's, which no update changes.
    command = "copier update --defaults --vcs-ref=:current: -d github_owner=YOUR-NAME"
    assert command in results["TK108"]["fix"]
    done = subprocess.run(
        [sys.executable, "-m", *command.replace("YOUR-NAME", "ada-lab").split(), "--quiet"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "github.com/ada-lab/" not in (repo / "README.md").read_text()  # the author's file
    subprocess.run(
        ["sed", "-i", "s/your-github-name/ada-lab/g", "README.md", "CITATION.cff"],
        cwd=repo,
        check=True,
    )
    assert check(tk, repo)[1]["TK108"]["result"] == "pass"
    assert "github.com/ada-lab/" in (repo / "README.md").read_text()


def test_the_text_members_demo_is_the_demo_too(tk, tmp_path):
    """A fresh text-classification repo trains on the sentences it ships: its TUTORIAL-DEMO
    markers are no reason to warn (TK107), as for the digits."""
    repo = tmp_path / "review-sentiment"
    code, _out, err = tk("new", repo, "--defaults", "--data", "task=text-classification")
    assert code == 0, err
    assert check(tk, repo)[1]["TK107"]["result"] == "pass"
