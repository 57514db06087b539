"""The generated repos install from their own files and really run, on CPU, for both frameworks.

These are the slow tests: each framework's repo gets a fresh venv from its pinned
requirements (once per session), then its own test suite, its notebook and its train
script run for real. Speed is measured in benchmarks/, not asserted here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import (
    FRAMEWORKS,
    TEMPLATE_TAG,
    InstalledRepo,
    copier_answers,
    files_of,
    git,
    quickstart_outputs,
    tool,
)

from tutorkit.github import junit_cases

pytestmark = pytest.mark.slow

ACCURACY_TARGET = {"pytorch": 0.97, "tensorflow": 0.96}
NOISE = re.compile(r"warning|tensorflow/|cuda|oneDNN|absl|deprecat", re.IGNORECASE)


def train(repo: InstalledRepo, runs_dir: Path, *args: str) -> Path:
    """``python -m <package>.train --config default``; the run folder it wrote."""
    done = repo.run("-m", f"{repo.package}.train", "--quiet", "--runs-dir", str(runs_dir), *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", f"the train script printed noise:\n{done.stderr}"
    (run_dir,) = runs_dir.iterdir()
    return run_dir


@pytest.fixture(scope="session")
def full_runs(installations, tmp_path_factory):
    """Two full-config training runs per framework (same seed), made once per session."""
    done: dict[str, tuple[Path, Path]] = {}

    def get(framework: str) -> tuple[Path, Path]:
        if framework not in done:
            repo = installations(framework)
            root = tmp_path_factory.mktemp(f"runs-{framework}")
            done[framework] = (train(repo, root / "first"), train(repo, root / "second"))
        return done[framework]

    return get


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_generated_repo_test_suite_passes_including_its_notebooks(installed, tmp_path):
    """`pytest`, one command: the unit tests, and the notebook through the notebook runner
    (its summary row, its junit case as the dashboard reads it, the executed notebook)."""
    done = installed.run(
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        f"--summary={tmp_path / 'summary.md'}",
        f"--executed={tmp_path / 'executed'}",
        "-o",
        "junit_family=xunit1",
        f"--junitxml={tmp_path / 'junit.xml'}",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"notebooks/01-quickstart\.ipynb::01-quickstart\.ipynb PASSED", output), output
    assert "test_same_seed_gives_identical_metrics PASSED" in output
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary
    assert re.search(
        r"^\| `notebooks/01-quickstart\.ipynb` \| passed \| [\d.]+ s \|$",
        (tmp_path / "summary.md").read_text(),
        re.M,
    )
    cases = junit_cases((tmp_path / "junit.xml").read_bytes())
    [notebook] = [case for case in cases if case["file"].endswith(".ipynb")]
    assert notebook["file"] == "notebooks/01-quickstart.ipynb" and notebook["outcome"] == "passed"
    assert len(cases) > 1  # the unit tests, in the same run
    executed = json.loads((tmp_path / "executed" / "notebooks" / "01-quickstart.ipynb").read_text())
    assert any(cell.get("outputs") for cell in executed["cells"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_full_config_meets_accuracy_target_and_repeats_bit_for_bit(full_runs, framework):
    first, second = full_runs(framework)
    assert metrics(first)["test_accuracy"] >= ACCURACY_TARGET[framework]
    assert metrics(first)["epochs"] == 20
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    assert (first / "config.yaml").read_bytes() == (second / "config.yaml").read_bytes()


def test_frameworks_are_at_parity_on_the_same_config(full_runs):
    (torch_run, _), (tf_run, _) = full_runs("pytorch"), full_runs("tensorflow")
    assert sorted(p.name for p in torch_run.iterdir()) == sorted(p.name for p in tf_run.iterdir())
    torch_metrics, tf_metrics = metrics(torch_run), metrics(tf_run)
    assert torch_metrics.keys() == tf_metrics.keys()
    assert torch_metrics["history"][0].keys() == tf_metrics["history"][0].keys()
    assert torch_metrics["sizes"] == tf_metrics["sizes"]
    assert (torch_run / "config.yaml").read_text() == (tf_run / "config.yaml").read_text()
    assert abs(torch_metrics["test_accuracy"] - tf_metrics["test_accuracy"]) <= 0.03
    torch_versions = json.loads((torch_run / "versions.json").read_text())
    tf_versions = json.loads((tf_run / "versions.json").read_text())
    assert "torch" in torch_versions and "tensorflow" in tf_versions


def test_notebook_executes_without_log_noise(installed, tmp_path):
    """Executed with nbclient in the repo's own venv: no warnings greet the reader."""
    streams = quickstart_outputs(installed, tmp_path / "executed.ipynb", TUTORIAL_PROFILE="smoke")
    texts = "".join("".join(out.get("text", "")) for out in streams)
    assert "test accuracy" in texts and "Epoch 1/3" in texts
    assert not NOISE.search(texts), texts
    images = [out for out in streams if "image/png" in out.get("data", {})]
    assert len(images) >= 4, "samples, learning curves, confusion matrix and mistakes are plotted"


def test_papermill_profile_parameter_picks_the_config(installed, tmp_path):
    """`papermill ... -p profile smoke` runs the smoke profile, even where TUTORIAL_PROFILE says
    otherwise: papermill (from the test extra) runs a kernel of the repo's own venv."""
    jupyter = tmp_path / "jupyter"
    kernel = installed.run(
        "-m", "ipykernel", "install", "--prefix", str(jupyter), "--name", "tutorial-repo"
    )
    assert kernel.returncode == 0, kernel.stderr
    executed = tmp_path / "executed.ipynb"
    done = subprocess.run(
        [tool("papermill"), "notebooks/01-quickstart.ipynb", str(executed)]
        + ["-p", "profile", "smoke", "-k", "tutorial-repo", "--cwd", "notebooks"],
        cwd=installed.path,
        env={
            **os.environ,
            "JUPYTER_PATH": str(jupyter / "share" / "jupyter"),
            "TUTORIAL_PROFILE": "default",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = json.loads(executed.read_text())
    injected = [
        c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
    ]
    assert injected and 'profile = "smoke"' in "".join(injected[0]["source"])
    texts = "".join(
        "".join(output.get("text", ""))
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )
    assert "profile 'smoke'" in texts and "Epoch 3/3" in texts and "Epoch 4/" not in texts


def test_switching_framework_with_plain_copier_update(tmp_path, render):
    """`copier update -d framework=tensorflow` turns a PyTorch repo into the TensorFlow repo,
    once the two framework-specific files that are the author's (the model and the README,
    which no update changes) are deleted first, as docs/switching-framework.md says."""
    repo = render(tmp_path / "repo", framework="pytorch")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "PyTorch tutorial")
    package = copier_answers(repo)["package_name"]
    git(repo, "rm", "--quiet", f"src/{package}/model.py", "README.md")
    git(repo, "commit", "--quiet", "-m", "Let the template write the model and README")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "update",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            TEMPLATE_TAG,
            "-d",
            "framework=tensorflow",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    fresh = render(tmp_path / "fresh", framework="tensorflow")
    assert {name for name in files_of(repo) if not name.startswith(".git/")} == files_of(fresh)
    for name in sorted(files_of(fresh)):
        assert (repo / name).read_text() == (fresh / name).read_text(), name
    assert copier_answers(repo)["framework"] == "tensorflow"
    changed = set(git(repo, "status", "--porcelain").splitlines())
    assert f" M src/{package}/engine.py" in changed and " M requirements.txt" in changed
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    assert not any("torch" in str(item) for item in environment["dependencies"])


def test_the_generated_tests_hold_for_the_guides_tabular_data(installed, tmp_path):
    """AUTHORING.md's wine data set, added as the guide shows it (its code pasted into data.py,
    listed in DATASETS and named in configs/default.yaml): rows become images one pixel high,
    and the repo's own tests pass on them unchanged (the notebook tells the digits' story, so
    it is left out), for both frameworks."""
    import shutil

    repo = tmp_path / "wine-tutorial"
    shutil.copytree(installed.path, repo, ignore=shutil.ignore_patterns(".git", "runs"))
    guide = (repo / "AUTHORING.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", guide, re.S) if "def wine" in b]
    data = repo / "src" / installed.package / "data.py"
    text = data.read_text().replace("import load_digits", "import load_digits, load_wine")
    datasets = 'DATASETS = {"digits": digits, "wine": wine}'  # digits stays, as the guide says
    text = text.replace('DATASETS = {"digits": digits}', f"{code}\n\n{datasets}")
    data.write_text(text)
    config = repo / "configs" / "default.yaml"
    config.write_text(config.read_text().replace("dataset: digits", "dataset: wine"))
    wine = InstalledRepo(repo, installed.python.parent.parent)
    done = wine.run("-m", "pytest", "tests", "-p", "no:cacheprovider", PYTHONPATH=str(repo / "src"))
    assert done.returncode == 0, done.stdout + done.stderr
    runs = tmp_path / "runs"
    train_run = wine.run(
        "-m", f"{installed.package}.train", "--config", "smoke", "--runs-dir", str(runs),
        "--quiet", PYTHONPATH=str(repo / "src"),
    )  # fmt: skip
    assert train_run.returncode == 0, train_run.stderr
    (run_dir,) = runs.iterdir()
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["data"]["dataset"] == "wine"
