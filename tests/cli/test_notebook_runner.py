"""The notebook execution policy (`notebooks.toml`) and the one runner that reads it
(`.github/scripts/notebooks.py`, rendered into every generated repo): the adopted repo's CI
step, run exactly as its rendered workflow states it, `tutorkit check --run`, and the policy's
rules one by one.

Real parts: tutorkit built as a wheel and installed (conftest.py `installs`), real Copier,
papermill, nbclient and ipykernel kernels on CPU. GitHub cannot be reached: the workflow step's
`run:` and `env:` are taken from the rendered YAML and run with bash as GitHub runs them, with
the variables GitHub sets (RUNNER_TEMP, GITHUB_STEP_SUMMARY) and the secret absent, as on a
pull request from a fork.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest
import yaml
from cli_support import commit_all, shim_environment
from support import CHECKOUT
from tutorial_repos import VISION_POLICY, keras_repo, notebook, vision_repo

from tutorkit.github import read_report

RUNNER = CHECKOUT / "templates" / "project" / ".github" / "scripts" / "notebooks.py"
RUN_STEP = "Run the tests and execute every notebook"
INSTALL_STEP = "Install the requirements and the notebook runner"
REPORT_STEP = "Upload the notebook report (read by the fleet dashboard)"
BIN = str(Path(sys.executable).parent)  # this suite's Python: pytest, papermill, ipykernel

POLICIES = {
    "vision-lectures": VISION_POLICY,
    "keras-course": """\
[[notebook]]
path = "legacy/*"
skip = "TensorFlow 1 graphs"

[[notebook]]
path = "week 2/IMDB sentiment.ipynb"
needs = ["network", "secret:HF_TOKEN"]
""",
}
EXPECTED = {
    "vision-lectures": {
        "01 Intro/Getting started.ipynb": "passed",
        "chapters/part 2/cnn/Train a CNN.ipynb": "passed",
        "chapters/part 2/Big model on a GPU.ipynb": "not run here | needs gpu",
        "legacy/old api.ipynb": "skipped | the pre-2.0 API, kept for readers of the 2021 article",
    },
    "keras-course": {
        "week 1/intro.ipynb": "passed",
        "week 2/IMDB sentiment.ipynb": "not run here | needs secret:HF_TOKEN (empty here",
        "legacy/tf1 graph.ipynb": "skipped | TensorFlow 1 graphs",
    },
}


def load_runner():
    spec = importlib.util.spec_from_file_location("notebooks_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def workflow_step(repo: Path, job: str, name: str) -> dict:
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "notebooks.yml").read_text())
    [step] = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == name]
    return step


def run_as_github(step: dict, repo: Path, tmp: Path, **secrets: str):
    """A step's `run:` as GitHub runs it (bash -eo pipefail), its `env:` block filled in with
    ``secrets`` (an absent secret is the empty string, as GitHub passes it)."""
    tmp.mkdir(parents=True, exist_ok=True)
    summary = tmp / "step-summary.md"
    summary.write_text("")
    env = {
        **os.environ,
        "PATH": os.pathsep.join([BIN, os.environ["PATH"]]),
        "RUNNER_TEMP": str(tmp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
    }
    env.update({name: secrets.get(name, "") for name in step.get("env", {})})
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    start = time.monotonic()
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    return done, summary.read_text(), time.monotonic() - start


@pytest.mark.slow  # installs tutorkit from its wheel, executes notebooks
@pytest.mark.parametrize("make", [vision_repo, keras_repo])
def test_an_adopted_repo_goes_green_as_its_ci_step_runs_it(tmp_path, template, installs, make):
    repo = make(tmp_path)
    env = {**os.environ, "TUTORKIT_TEMPLATE_URL": template}
    done = subprocess.run(
        [installs["wheel"], "adopt", repo], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    (repo / "notebooks.toml").write_text(POLICIES[repo.name])
    commit_all(repo, "How the notebooks run")
    install = workflow_step(repo, "pip", INSTALL_STEP)["run"]
    assert "pip install --require-hashes -r .github/requirements-runner.lock" in install
    runner_lock = (repo / ".github" / "requirements-runner.lock").read_text()
    for tool in ("pytest", "papermill", "ipykernel"):  # what CI installs is what runs here
        assert f"\n{tool}=={version(tool)} \\\n" in runner_lock, tool
    step = workflow_step(repo, "pip", RUN_STEP)
    done, summary, seconds = run_as_github(step, repo, tmp_path / "runner")
    print(f"CI notebook step of {repo.name}: {seconds:.1f} s")  # reported in the issue
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name, result in EXPECTED[repo.name].items():
        assert f"| `{name}` | {result}" in summary, (name, summary)
    assert git_status(repo) == "", "the run leaves the working tree as it found it"
    if repo.name == "vision-lectures":
        executed = (
            tmp_path / "runner" / "executed-notebooks" / "chapters/part 2/cnn/Train a CNN.ipynb"
        )
        outputs = nbformat.read(executed, as_version=4).cells
        printed = "".join(o.get("text", "") for c in outputs for o in c.get("outputs", []))
        assert "steps 20" in printed  # the smoke parameter reached the notebook
        # The notebook report, zipped as upload-artifact zips the step's paths, reads on the
        # fleet dashboard: each notebook's outcome, and the warning its executed copy printed.
        report = read_report(uploaded(workflow_step(repo, "pip", REPORT_STEP), tmp_path / "runner"))
        assert {case["file"] for case in report["cases"]} >= set(EXPECTED[repo.name])
        assert report["warnings"] == {
            "01 Intro/Getting started.ipynb": [
                "FutureWarning: plots move to utils.show in the next lecture"
            ]
        }


def uploaded(step: dict, runner_temp: Path) -> bytes:
    """The zip that actions/upload-artifact makes of ``step``'s paths: every file under them,
    named from the paths' least common ancestor (its README: "Upload using multiple paths")."""
    paths = [
        Path(line.replace("${{ runner.temp }}", str(runner_temp)))
        for line in step["with"]["path"].splitlines()
    ]
    root = Path(os.path.commonpath(paths))
    files = [
        f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in files:
            archive.write(file, file.relative_to(root).as_posix())
    return buffer.getvalue()


def git_status(repo: Path) -> str:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=repo, capture_output=True, text=True
    )
    return done.stdout


@pytest.mark.slow  # executes notebooks
def test_check_run_invokes_the_same_runner(tmp_path, tk, template, monkeypatch):
    repo = vision_repo(tmp_path)
    assert tk("adopt", repo, "--template-url", template)[0] == 0
    (repo / "notebooks.toml").write_text(POLICIES[repo.name])
    commit_all(repo, "How the notebooks run")
    monkeypatch.setenv("VIRTUAL_ENV", str(shim_environment(tmp_path / "env")))
    code, out, err = tk("check", repo, "--run", "--json")
    [tk201] = [r for r in json.loads(out) if r["id"] == "TK201"]
    assert tk201["result"] == "pass", (tk201, err)
    assert tk201["notes"] == [
        "chapters/part 2/Big model on a GPU.ipynb: not run here (needs gpu)",
        "legacy/old api.ipynb: skipped (the pre-2.0 API, kept for readers of the 2021 article)",
    ]
    (repo / "notebooks.toml").write_text(POLICIES[repo.name].replace("steps = 20", "steps = 'x'"))
    code, out, err = tk("check", repo, "--run", "--json")
    [tk201] = [r for r in json.loads(out) if r["id"] == "TK201"]
    assert (code, tk201["result"]) == (1, "fail")
    [problem] = tk201["problems"]
    assert problem.startswith("chapters/part 2/cnn/Train a CNN.ipynb failed: cell In [")
    assert "TypeError" in problem


DIES_ONCE = """\
import os, pathlib
flag = pathlib.Path(os.environ["FLAGS"]) / "died-once"
if not flag.exists():
    flag.touch()
    os._exit(1)
print("second attempt")"""
COUNTED_ERROR = """\
import os, pathlib
runs = pathlib.Path(os.environ["FLAGS"]) / "runs"
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
1 / 0"""


@pytest.mark.slow  # executes notebooks
def test_a_dead_kernel_is_retried_and_a_real_error_is_not(tmp_path):
    repo = tmp_path / "repo"
    notebook(repo / "dies once.ipynb", "# Dies once", DIES_ONCE)
    notebook(repo / "always dies.ipynb", "# Always", "import os\nos._exit(1)")
    notebook(repo / "real error.ipynb", "# Error", COUNTED_ERROR)
    (repo / "notebooks.toml").write_text("[defaults]\nretries = 1\ntimeout = 60\n")
    flags = tmp_path / "flags"
    flags.mkdir()
    summary = tmp_path / "summary.md"
    done = subprocess.run(
        [sys.executable, RUNNER, ".", "--summary", summary, "--executed", tmp_path / "out"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "FLAGS": str(flags)},
    )
    assert done.returncode == 1
    text = summary.read_text()
    assert "| `dies once.ipynb` | passed | " in text and "after 1 kernel death(s)" in text
    assert "| `always dies.ipynb` | failed | the kernel died" in text
    assert "in 2 attempt(s)" in text
    assert (
        "| `real error.ipynb` | failed | cell In [1] `import os, pathlib`: ZeroDivisionError"
        in (text)
    )
    assert (flags / "runs").read_text() == "x"  # run once: a real error is never retried


# --- the policy's rules, one by one (no kernel) ---


def test_later_entries_override_earlier_ones_and_retries_are_bounded(tmp_path):
    runner = load_runner()
    (tmp_path / "notebooks.toml").write_text(
        "[defaults]\ntimeout = 300\n\n"
        '[[notebook]]\npath = "*"\nretries = 99\n\n'
        '[[notebook]]\npath = "slow/*"\ntimeout = 3600\nparameters = { epochs = 1 }\n'
    )
    defaults, entries = runner.read_policy(tmp_path)
    fast = runner.policy_for("a b/x.ipynb", defaults, entries)
    slow = runner.policy_for("slow/deep/y.ipynb", defaults, entries)
    assert (fast.timeout, fast.retries, fast.parameters) == (300, 3, {})
    assert (slow.timeout, slow.parameters) == (3600, {"epochs": 1})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[notebook]]\nskip = "no path"\n', "notebook entry 1 needs a `path`"),
        ('[[notebook]]\npath = "x"\nskipp = "typo"\n', "found skipp"),
        ("[[notebook]\n", "is not valid TOML"),
    ],
)
def test_a_policy_that_cannot_be_used_is_one_sentence(tmp_path, text, message):
    (tmp_path / "notebooks.toml").write_text(text)
    with pytest.raises(pytest.UsageError, match=message):
        load_runner().read_policy(tmp_path)


def test_needs_that_this_machine_lacks(monkeypatch):
    runner = load_runner()
    monkeypatch.setenv("NOTEBOOKS_OFFLINE", "1")
    monkeypatch.setenv("PATH", "")  # no nvidia-smi
    monkeypatch.delenv("NOTEBOOKS_GPU", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    lacking = runner.missing(["gpu", "network", "secret:HF_TOKEN"])
    assert lacking[:2] == ["gpu", "network"] and lacking[2].startswith("secret:HF_TOKEN (empty")
    monkeypatch.setenv("NOTEBOOKS_GPU", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    monkeypatch.delenv("NOTEBOOKS_OFFLINE")
    assert runner.missing(["gpu", "network", "secret:HF_TOKEN"]) == []


def test_notebook_secrets_become_masked_variables(monkeypatch, capsys):
    runner = load_runner()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name in ("HF_TOKEN", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    runner.load_secrets("HF_TOKEN=hf_abc\nnot a line\nKAGGLE_KEY=k=1\n")
    assert (os.environ["HF_TOKEN"], os.environ["KAGGLE_KEY"]) == ("hf_abc", "k=1")
    assert capsys.readouterr().out == "::add-mask::hf_abc\n::add-mask::k=1\n"


@pytest.mark.slow  # executes a notebook
def test_the_gpu_job_runs_only_the_gpu_notebooks(tmp_path, tk, template):
    """The gpu job's step from the rendered workflow, on a machine that says it has a GPU
    (NOTEBOOKS_GPU=1 and CUDA_VISIBLE_DEVICES stand for the GPU runner; none is here)."""
    repo = vision_repo(tmp_path)
    assert tk("adopt", repo, "--template-url", template)[0] == 0
    (repo / "notebooks.toml").write_text(VISION_POLICY)
    step = workflow_step(repo, "gpu", "Execute the notebooks that need a GPU")
    os.environ.update(NOTEBOOKS_GPU="1", CUDA_VISIBLE_DEVICES="0")
    try:
        done, summary, _ = run_as_github(step, repo, tmp_path / "runner")
    finally:
        del os.environ["NOTEBOOKS_GPU"], os.environ["CUDA_VISIBLE_DEVICES"]
    assert done.returncode == 0, done.stdout[-3000:]
    assert "| `chapters/part 2/Big model on a GPU.ipynb` | passed |" in summary
    other_job = "| not run here | runs in the other job (it needs no gpu)"
    assert f"| `01 Intro/Getting started.ipynb` {other_job}" in summary


def test_the_cache_is_keyed_on_the_week(tmp_path, tk, template):
    """The step that names the week for the download cache's key, run as GitHub runs it."""
    repo = vision_repo(tmp_path)
    assert tk("adopt", repo, "--template-url", template)[0] == 0
    step = workflow_step(repo, "pip", "Name the week (the download cache starts afresh every week)")
    output = tmp_path / "github-output"
    output.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    assert subprocess.run(command, cwd=repo, env=env).returncode == 0
    assert re.fullmatch(r"week=\d{4}-W\d{2}\n", output.read_text())
