"""TK112: `tutorkit check --colab DIR` against two real Colab runtime package lists.

tests/data/colab/ holds two snapshots of googlecolab/backend-info's `pip-freeze.txt` and
`os-info.txt`, copied unchanged from that repository at commits 1764c367 (2026-08-14, Python
3.12.13) and a7240792 (2026-08-19, "Upgrade to Python 3.13", Python 3.13.15): the runtime
before and after a Colab update. Nothing is fetched: the tests read those files.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
import types
from pathlib import Path

import pytest
from cli_support import commit_all
from packaging.requirements import Requirement
from support import git

from tutorkit.checks.colab import freeze_versions, load_runtime

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "colab"
BEFORE = SNAPSHOTS / "2026-08-14-python3.12"
AFTER = SNAPSHOTS / "2026-08-19-python3.13"


@pytest.fixture(scope="module")
def tracked_repo(tmp_path_factory, render) -> Path:
    """A PyTorch repo with MLflow tracking (mlflow is not on Colab), whose author pinned pandas
    at another version than Colab's and allows Python below 3.13 only."""
    repo = render(tmp_path_factory.mktemp("colab") / "repo", tracking="mlflow")
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text().replace(
        "dependencies = [\n", 'dependencies = [\n  "pandas==2.2.2",\n'
    )
    pyproject.write_text(
        text.replace('requires-python = ">=3.11"', 'requires-python = ">=3.11,<3.13"')
    )
    git(repo, "init", "--quiet")
    commit_all(repo, "Generated, with pandas pinned and Python below 3.13")
    return repo


def tk112(tk, repo: Path, snapshot: Path) -> dict:
    """TK112's result (the other rules' verdicts on a test render are theirs: TK101 fails on a
    template given by a local path)."""
    _, out, _ = tk("check", repo, "--colab", snapshot, "--json")
    return {r["id"]: r for r in json.loads(out)}["TK112"]


def test_the_runtime_before_the_update_reports_what_the_install_cell_changes(tk, tracked_repo):
    result = tk112(tk, tracked_repo, BEFORE)
    assert result["result"] == "warn"
    assert result["problems"] == [
        "the install cell replaces Colab's pandas 2.2.3 with 2.2.2",
        "Colab keeps its torch 2.11.0+cpu (CI tests the lock's 2.13.0+cpu)",
        "mlflow is not on Colab: the install cell installs its newest release, not the lock's "
        "3.17.2",
        "Colab keeps its numpy 2.0.2 (CI tests the lock's 2.4.6)",
        "Colab keeps its scikit-learn 1.6.1 (CI tests the lock's 1.9.1)",
        "Colab keeps its matplotlib 3.10.0 (CI tests the lock's 3.11.2)",
        'the minimal install cell: %pip install --quiet <this repo> "pandas==2.2.2" '
        '"mlflow==3.17.2"',
    ]
    assert result["url"].endswith("#tk112")


def test_the_runtime_after_the_update_cannot_install_it_and_moved_numpy(tk, tracked_repo):
    result = tk112(tk, tracked_repo, AFTER)
    assert result["result"] == "fail"
    problems = result["problems"]
    assert problems[0] == (
        "cannot install on Colab's Python 3.13.15: pyproject.toml requires Python >=3.11,<3.13"
    )
    assert "Colab keeps its numpy 2.1.3 (CI tests the lock's 2.4.6)" in problems
    before = tk112(tk, tracked_repo, BEFORE)["problems"]
    assert sorted(set(problems) - set(before)) == sorted(
        [problems[0], "Colab keeps its numpy 2.1.3 (CI tests the lock's 2.4.6)"]
    )


def test_without_colab_there_is_no_tk112(tk, tracked_repo):
    _, out, _ = tk("check", tracked_repo, "--json")
    assert "TK112" not in {r["id"] for r in json.loads(out)}


def test_a_folder_without_the_lists_is_one_sentence(tk, tracked_repo, tmp_path):
    code, out, err = tk("check", tracked_repo, "--colab", tmp_path)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"tutorkit: error: {tmp_path} does not hold Colab's pip-freeze.txt and os-info.txt: give "
        "a checkout of googlecolab/backend-info (git clone "
        "https://github.com/googlecolab/backend-info)."
    )


def test_freeze_lines_with_wheel_urls_give_their_version():
    text = (
        "# comment\nPyYAML==6.0.3\n"
        "torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-"
        "manylinux_2_28_x86_64.whl\nsomething @ git+https://example.org/x.git\n"
    )
    assert freeze_versions(text) == {"pyyaml": "6.0.3", "torch": "2.11.0+cpu"}


# --- the starter's install cell is the one TK112 calls minimal ---

STARTERS = {
    "pytorch": {"framework": "pytorch"},
    "tensorflow": {"framework": "tensorflow"},
    "text-classification": {"task": "text-classification"},
}
KEEPS = re.compile(
    r"^Colab keeps its (\S+) (\S+)(?: for (\S+))? \(CI tests (?:the lock's )?(\S+)\)$"
)


@pytest.fixture(scope="module")
def starters(tmp_path_factory, render) -> dict[str, Path]:
    """A fresh starter of each framework, and the text task, as `tutorkit new` makes it."""
    found = {}
    for name, answers in STARTERS.items():
        repo = render(tmp_path_factory.mktemp("starter") / name, **answers)
        git(repo, "init", "--quiet")
        commit_all(repo, "Generated")
        found[name] = repo
    return found


def _locked(repo: Path) -> dict[str, str]:
    text = (repo / "requirements.lock").read_text()
    return {n.lower(): v for n, v in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)}


@pytest.mark.parametrize("snapshot", [BEFORE, AFTER], ids=lambda p: p.name)
@pytest.mark.parametrize("starter", list(STARTERS))
def test_the_starters_install_cell_is_the_minimal_one(tk, starters, starter, snapshot):
    """On both runtimes, for each starter: the package installs, the cell replaces nothing of
    Colab's and needs nothing added (the minimal cell is the starter's, `pip install` of the
    repo), and what the rule reports is exactly each direct dependency that Colab has at
    another version than the lock, read here from the snapshot and the lock themselves."""
    repo = starters[starter]
    result = tk112(tk, repo, snapshot)
    assert result["result"] == "warn"
    *kept, minimal = result["problems"]
    assert minimal == "the minimal install cell: %pip install --quiet <this repo>"
    colab = freeze_versions((snapshot / "pip-freeze.txt").read_text())
    locked = _locked(repo)
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    differs = set()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"sys_platform": "linux"}):
            continue
        name = requirement.name.lower()
        on_colab = "tensorflow" if name == "tensorflow-cpu" else name
        assert on_colab in colab, f"{name}: the starter needs what Colab lacks"
        if locked[name] != colab[on_colab]:
            differs.add((on_colab, colab[on_colab], locked[name]))
    reported = set()
    for line in kept:
        match = KEEPS.match(line)
        assert match, line
        reported.add((match[1], match[2], match[4]))
    assert reported == differs and len(kept) == len(differs)
    assert ("tensorflow" in {name for name, _, _ in reported}) == (starter == "tensorflow")


def test_the_tensorflow_cell_keeps_colabs_tensorflow(starters, tmp_path, monkeypatch):
    """The TensorFlow starter's first cell, run as on Colab (Colab cannot be reached from here:
    `google.colab` is a stand-in module, git and pip are recorded, not run, and the clone's
    pyproject.toml is the rendered one): where a TensorFlow is installed it installs the
    package's dependencies but tensorflow-cpu (another build of the same `tensorflow` module),
    then the package without its dependencies; where none is, the package as the other
    starters do."""
    repo = starters["tensorflow"]
    notebook = json.loads((repo / "notebooks" / "01-quickstart.ipynb").read_text())
    source = "".join(next(c for c in notebook["cells"] if c["cell_type"] == "code")["source"])
    answers = (repo / ".copier-answers.yml").read_text()
    checkout = "/content/" + re.search(r"^repo_name: (\S+)$", answers, re.M)[1]
    dependencies = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.chdir(tmp_path)

    def run_cell() -> list:
        calls: list = []
        monkeypatch.setattr("subprocess.run", lambda args, _calls=calls, **_: _calls.append(args))
        monkeypatch.setattr("os.chdir", lambda folder, _calls=calls: _calls.append(folder))

        def clone_open(path, mode="r"):
            assert path == f"{checkout}/pyproject.toml"
            return (repo / "pyproject.toml").open(mode)

        exec(compile(source, "cell", "exec"), {"open": clone_open})  # noqa: S102
        return calls

    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    if importlib.util.find_spec("tensorflow") is None:  # this test environment has none
        clone, install, moved = run_cell()
        assert install == [*pip, checkout] and moved == f"{checkout}/notebooks"
    installed = tmp_path / "site"
    (installed / "tensorflow").mkdir(parents=True)
    (installed / "tensorflow" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(installed))
    clone, requirements, package, moved = run_cell()
    assert clone[:2] == ["git", "clone"] and clone[-1] == checkout
    assert requirements == [*pip, *[d for d in dependencies if not d.startswith("tensorflow-cpu")]]
    assert 'tensorflow; sys_platform == "darwin"' in requirements  # pip skips it on Linux
    assert package == [*pip, "--no-deps", checkout] and moved == f"{checkout}/notebooks"


def test_markers_are_read_as_on_colab():
    """Linux, x86-64, the runtime's Python: the TensorFlow starter's macOS line does not apply."""
    before = load_runtime(BEFORE)
    after = load_runtime(AFTER)
    assert not before.applies('tensorflow; sys_platform == "darwin"')
    assert before.applies('tensorflow-cpu; sys_platform != "darwin"')
    assert before.applies('numpy; python_version < "3.13"')
    assert not after.applies('numpy; python_version < "3.13"')
    assert before.applies('x; platform_machine == "x86_64" and platform_system == "Linux"')


@pytest.fixture(scope="module")
def adopted_course(tmp_path_factory, render) -> Path:
    """An adopted repo whose notebooks install with pip as real tutorials do: a pinned torch
    and numpy with a package Colab lacks, an upgrade, the repo's requirements file (hashes,
    a line continued, a `-r` of another, a marker), a git URL, a TensorFlow notebook that
    installs tensorflow-cpu, one that installs the requirements of a clone it makes, and one
    without install lines (its markdown shows one, which is not code)."""
    import nbformat

    repo = render(tmp_path_factory.mktemp("adopted") / "course", layout="infrastructure")
    cells = {
        "week 1/train.ipynb": [
            "%pip install -q torch==2.13.0 'numpy==2.0.2' evaluate  # as in the article",
            "import torch",
        ],
        "week 1/explore.ipynb": ["!pip install --upgrade pandas\n!pip install -r requirements.txt"],
        "week 2/keras.ipynb": [
            "!python -m pip install tensorflow-cpu==2.21.0 git+https://github.com/ada/utils.git"
        ],
        "week 2/plain.ipynb": [
            "import numpy as np",
            "md:Colab users first run\n!pip install bogus",
        ],
        "week 2/clone.ipynb": [
            "!git clone https://github.com/ada/course\n%pip install -r course/requirements.txt"
        ],
    }
    (repo / "requirements").mkdir()
    (repo / "requirements.txt").write_bytes(
        b"torch==2.13.0 \\\r\n    --hash=sha256:0123abcd\r\n-r requirements/extra.txt\r\n"
    )
    (repo / "requirements" / "extra.txt").write_text(
        'numpy==2.0.2 ; python_version < "3.13"\nscikit-learn  # any\nrich==14.0.0\n'
    )
    for path, sources in cells.items():
        notebook = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell(s[3:])
                if s.startswith("md:")
                else nbformat.v4.new_code_cell(s)
                for s in sources
            ]
        )
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, repo / path)
    git(repo, "init", "--quiet")
    commit_all(repo, "Adopted, with its notebooks")
    return repo


def test_each_notebooks_pip_lines_are_judged_on_both_runtimes(tk, adopted_course):
    """Per notebook: what its install lines replace, add and leave alone on each runtime, and
    the minimal line; the two snapshots differ where Colab moved numpy (2.0.2 -> 2.1.3)."""
    before = tk112(tk, adopted_course, BEFORE)
    assert before["result"] == "warn"
    assert before["problems"] == [
        "week 1/explore.ipynb: upgrades Colab's pandas 2.2.3 to its newest release",
        "week 1/explore.ipynb: replaces Colab's torch 2.11.0+cpu with torch==2.13.0 "
        "(in requirements.txt)",
        "week 1/explore.ipynb: changes nothing: Colab has numpy 2.0.2 (in requirements/extra.txt)",
        "week 1/explore.ipynb: changes nothing: Colab has scikit-learn 1.6.1 "
        "(in requirements/extra.txt)",
        "week 1/explore.ipynb: replaces Colab's rich 13.9.4 with rich==14.0.0 "
        "(in requirements/extra.txt)",
        "week 1/explore.ipynb: the minimal install line: "
        "%pip install --quiet pandas torch==2.13.0 rich==14.0.0",
        "week 1/train.ipynb: replaces Colab's torch 2.11.0+cpu with torch==2.13.0",
        "week 1/train.ipynb: changes nothing: Colab has numpy 2.0.2",
        "week 1/train.ipynb: installs evaluate (not on Colab)",
        "week 1/train.ipynb: the minimal install line: %pip install --quiet torch==2.13.0 evaluate",
        "week 2/clone.ipynb: installs the requirements file course/requirements.txt, which is "
        "not in the repo",
        "week 2/clone.ipynb: the minimal install line: "
        "%pip install --quiet -r course/requirements.txt",
        "week 2/keras.ipynb: installs tensorflow-cpu over Colab's tensorflow 2.20.0: drop it",
        "week 2/keras.ipynb: installs git+https://github.com/ada/utils.git, which Colab cannot "
        "know of",
        "week 2/keras.ipynb: the minimal install line: %pip install --quiet "
        "git+https://github.com/ada/utils.git",
    ]
    after = tk112(tk, adopted_course, AFTER)["problems"]
    assert "week 1/train.ipynb: replaces Colab's numpy 2.1.3 with numpy==2.0.2" in after
    assert (
        "week 1/train.ipynb: the minimal install line: "
        "%pip install --quiet torch==2.13.0 numpy==2.0.2 evaluate"
    ) in after
    assert not any(line.startswith("week 2/plain.ipynb") for line in before["problems"] + after)
    # Python 3.13: the requirements file's numpy line is not for it.
    assert not any("numpy 2.1.3 (in requirements/extra.txt)" in line for line in after)
    assert (
        "week 1/explore.ipynb: the minimal install line: "
        "%pip install --quiet pandas torch==2.13.0 rich==14.0.0"
    ) in after


def test_install_lines_are_read_as_pip_reads_them():
    from tutorkit.checks.colab import install_lines, requirements_of

    source = (
        "%pip install -q -r reqs.txt --index-url https://x.test/simple 'a>=1' b  # why\n"
        "!pip3 install -U c -rmore.txt --requirement=other.txt --root /x\n"
        "!{sys.executable} -m pip install -e . d\nprint('pip install e')\n"
        "!pip install 'unbalanced\n"
    )
    lines = install_lines(source)
    assert [requirements_of(words) for words in lines] == [
        (["a>=1", "b"], ["reqs.txt"], False),
        (["c"], ["more.txt", "other.txt"], True),
        ([".", "d"], [], False),
    ]


def test_an_adopted_repo_without_pip_lines_passes_tk112(tk, render, tmp_path):
    """TK112 judges an adopted repo's own install lines; a repo whose notebooks have none (and
    no starter package) has nothing to report."""
    repo = render(tmp_path / "adopted", layout="infrastructure")
    git(repo, "init", "--quiet")
    commit_all(repo, "Adopted")
    result = tk112(tk, repo, BEFORE)
    assert (result["result"], result["problems"]) == ("pass", [])
