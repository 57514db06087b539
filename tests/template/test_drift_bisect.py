"""The dependency-drift canary names the upgrade that breaks it (.github/scripts/drift_bisect.py).

The slow tests run the workflow's step for real and offline: a tiny package index (a
--find-links folder of wheels built here with `pip wheel` from minimal pyproject.toml files:
alpha, beta and gamma, each at 1.0 and 1.1, beta 1.1 needing alpha>=1.1), a tiny repo shaped
like a generated one (the rendered .github, a requirements.lock that uv resolves from that
folder, tests and a notebook run by pytest with the notebook runner) and a venv of its own,
where the newest releases are installed as the canary's job installs them. The steps' commands
are taken from the rendered workflow and run with bash as GitHub runs them; uv, pip, pytest and
papermill are the real ones, pointed at the folder through their environment (no index).
GitHub cannot be reached: the tracking issue is kept by the recording `gh` stand-in
(tests/gh_stand_in.py).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
from argparse import Namespace
from importlib.metadata import version
from itertools import combinations
from pathlib import Path

import nbformat
import pytest
from gh_stand_in import GhStandIn
from support import CHECKOUT, VARIANTS
from test_workflow_scripts import (
    REPO,
    RUN_TESTS,
    actions_env,
    outputs,
    run_url,
    step,
    tracker,
    workflow,
)

SCRIPTS = CHECKOUT / "templates" / "project" / ".github" / "scripts"
FIND = "Find the upgrade that breaks them"
INSTALL_UV = "Install uv, apart from the tested environment"
WHEN = "failure() && steps.tests.outcome == 'failure' && hashFiles('requirements.lock') != ''"

# name, version, module source, dependencies
PACKAGES = [
    ("alpha", "1.0", "def scale():\n    return 2\n", []),
    ("alpha", "1.1", "def scale():\n    return 3\n", []),
    ("beta", "1.0", "def legacy():\n    return 'ok'\n", []),
    ("beta", "1.1", "def modern():\n    return 'ok'\n", ["alpha>=1.1"]),  # legacy() is gone
    ("gamma", "1.0", "def size():\n    return 2\n", []),
    ("gamma", "1.1", "def size():\n    return 3\n", []),
]
NEWEST = ["alpha==1.1", "beta==1.1", "gamma==1.1"]


@functools.cache
def script():
    """drift_bisect.py as a module (its directory on sys.path, as when it runs)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("drift_bisect", SCRIPTS / "drift_bisect.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["drift_bisect"] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


# --- the search, fast ---


def searched(changes: list[str], breaks) -> tuple[list[str], int]:
    """narrow() over ``changes`` where ``breaks(set)`` says whether a set fails; the culprit
    and the number of distinct sets tried (the whole set is the failed run, not a trial)."""
    tried = set()

    def fails(subset: frozenset) -> bool:
        if subset != frozenset(changes):
            tried.add(subset)
        return breaks(subset)

    return script().narrow(changes, fails), len(tried)


def test_one_culprit_is_found_in_halves():
    """Any one of n upgrades is found in at most 2 * ceil(log2 n) trials (a half that passes
    costs its twin): 8 of 16, 9 of 30, 11 of 48, 12 of 64; so the canary's 12 trials (the
    lock's first) find one culprit among 48 upgrades."""
    for count, bound in ((2, 2), (16, 8), (30, 9), (48, 11), (64, 12)):
        names = [f"p{i:02}" for i in range(count)]
        worst = 0
        for culprit in names:
            found, trials = searched(names, lambda subset, c=culprit: c in subset)
            assert found == [culprit], culprit
            worst = max(worst, trials)
        assert worst == bound, (count, worst)


def test_two_that_fail_only_together_are_named_together():
    """Every pair of 8 upgrades that fails only together (and never alone) is found: each half
    is searched with the other applied, in at most 10 trials (14 of 16)."""
    for count, bound in ((8, 10), (16, 14)):
        names = [f"p{i:02}" for i in range(count)]
        worst = 0
        for pair in combinations(names, 2):
            found, trials = searched(names, lambda subset, p=pair: set(p) <= subset)
            assert found == list(pair), pair
            worst = max(worst, trials)
        assert worst == bound, (count, worst)


def test_the_trials_are_bounded_in_number_and_minutes():
    """No trial past --max-trials; none started that would end after --minutes (the slowest
    trial so far decides), though the first always runs."""
    module = script()
    args = Namespace(allow=[], junit=None, max_trials=2, minutes=1.0)
    trials = module.Trials(args, "a==1\n", {"a": ("1", "2")}, Path("."))
    trials.check_budget()  # the first trial
    trials.done[frozenset()] = module.Trial(1, frozenset(), "passes")
    trials.slowest = 61.0
    with pytest.raises(module.OutOfTrials, match=r"would end past the budget \(--minutes 1\)"):
        trials.check_budget()
    trials.slowest = 1.0
    trials.check_budget()
    trials.done[frozenset("a")] = module.Trial(2, frozenset("a"), "passes")
    with pytest.raises(module.OutOfTrials, match=r"the bound \(--max-trials 2\) is reached"):
        trials.check_budget()


def test_nothing_to_bisect_when_no_locked_release_moved(tmp_path, capsys, monkeypatch):
    """A lock whose every package is installed at its locked release (pytest, here): the
    script says so and tries nothing."""
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)  # when tutorkit's own CI runs this
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"pytest=={version('pytest')} \\\n    --hash=sha256:{'0' * 64}\n")
    assert script().main([str(lock), "--uv", "uv", "--", "false"]) == 0
    out = capsys.readouterr().out
    assert out == "No package of the lock is at another release here: nothing to bisect.\n"


# --- the workflow's wiring ---


def test_the_bisection_runs_only_when_the_newest_releases_fail_the_tests(variants):
    """The two new steps run after a failing test step, with a lock; a passing run leaves the
    job green and the `refresh` job proposes the lock as before. The trials run the test step's
    own command (the script adds --junitxml), bounded: 12 trials, 40 minutes, inside the step's
    45 and the job's 80. Its report reaches the tracking issue as the job's `culprit` output."""
    canary = workflow(variants[VARIANTS[0]], "dependency-drift.yml")
    latest = canary["jobs"]["latest"]
    names = [s.get("name") for s in latest["steps"]]
    assert names.index(FIND) == names.index(INSTALL_UV) + 1 == len(names) - 1
    assert names.index("Upload the executed notebooks") < names.index(INSTALL_UV)
    found = step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", FIND)
    uv = step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", INSTALL_UV)
    assert found["if"] == uv["if"] == WHEN and found["id"] == "culprit"
    assert step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", RUN_TESTS)["id"] == "tests"
    assert canary["jobs"]["refresh"]["if"] == "needs.latest.result == 'success'"
    assert latest["outputs"]["culprit"] == "${{ steps.culprit.outputs.culprit }}"
    words = found["run"].split()
    command = words[words.index("--") + 1 :]
    tests = step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", RUN_TESTS)["run"]
    # The test step's command less its report options (summary, executed notebooks, junit):
    # the bisection writes its own report.
    reports = ("--summary=", "--executed=", "--junitxml=")
    assert [word for word in tests.split() if not word.startswith(reports)] == command
    assert words[words.index("--max-trials") + 1] == "12"
    assert words[words.index("--minutes") + 1] == "40"
    assert found["timeout-minutes"] == 45 and latest["timeout-minutes"] == 80


def test_uv_is_installed_apart_at_tutorkits_release(variants):
    """The canary's uv (in a venv of its own: the environment under test is left alone) is the
    release tutorkit's `deps` extra pins, which these tests run, hash-checked from the tools
    lock (whose install the hygiene job's test runs; the slow tests give the script this
    machine's uv at the same path)."""
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    (pin,) = [p for p in pyproject["project"]["optional-dependencies"]["deps"] if "uv" in p]
    assert pin == f"uv=={version('uv')}"
    found = step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", INSTALL_UV)
    tools = ".github/requirements-tools.lock"  # uv, pinned with its hashes
    assert found["run"] == (
        'python -m venv "$RUNNER_TEMP/uv"\n'
        f'"$RUNNER_TEMP/uv/bin/python" -m pip install --quiet --require-hashes -r {tools}\n'
    )
    assert f"\n{pin} \\\n    --hash=sha256:" in (variants[VARIANTS[0]] / tools).read_text()
    assert (
        '--uv "$RUNNER_TEMP/uv/bin/uv"'
        in step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", FIND)["run"]
    )


CULPRIT = (
    "`beta` 1.0 -> 1.1 breaks `tests/test_model.py::test_legacy`.\n\n"
    "Trials (2; at most 12 trials, 40 minutes); each is the lock with those upgrades, "
    "resolved with uv as of 2026-12-07T05:40:00Z and installed with pip:\n\n"
    "1. the lock itself: passes (2.0 min)\n"
    "2. upgraded `beta` 1.0 -> 1.1: fails: `tests/test_model.py::test_legacy` (2.1 min)"
)


def test_the_tracking_issue_names_the_culprit(repo, tmp_path):
    """The track step puts the job's `culprit` output in the issue, before the releases that
    differ; a passing run closes the issue as before."""
    gh = GhStandIn(tmp_path, REPO)
    canary = tracker(repo, gh, tmp_path, "dependency-drift.yml")
    drift = "- `beta`: pinned 1.0, newest 1.1"
    failed = {"failed": "tests/test_model.py::test_legacy", "drift": drift, "culprit": CULPRIT}
    calls = canary(json.dumps({"latest": {"result": "failure", "outputs": failed}}), number=8)
    assert calls[2][:2] == ["issue", "create"]
    (issue,) = gh.state["issues"]
    assert issue["body"].startswith(f"The dependency-drift run (newest releases, nothing pinned)"
                                    f" failed: {run_url(8)}\n")  # fmt: skip
    assert (
        "\n\nThe upgrade that breaks them (tried from requirements.lock):\n\n"
        f"{CULPRIT}\n\nInstalled releases that differ from the pins (requirements.lock):\n\n"
        f"{drift}\n"
    ) in issue["body"]
    calls = canary(json.dumps({"latest": {"result": "success", "outputs": {}}}))
    assert calls[1][:3] == ["issue", "close", "1"]


@pytest.fixture
def repo(variants, tmp_path) -> Path:
    from test_workflow_scripts import published

    return published(variants[VARIANTS[0]], tmp_path)


# --- the bisection, for real ---


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """A --find-links folder: the six wheels, built with `pip wheel` (two calls: 1.0s, 1.1s)."""
    root = tmp_path_factory.mktemp("index")
    wheels = root / "wheels"
    for release in ("1.0", "1.1"):
        sources = []
        for name, at, code, needs in PACKAGES:
            if at != release:
                continue
            source = root / f"{name}-{at}"
            (source / name).mkdir(parents=True)
            (source / name / "__init__.py").write_text(code)
            (source / "pyproject.toml").write_text(
                '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
                f'[project]\nname = "{name}"\nversion = "{at}"\ndependencies = {needs!r}\n'
                .replace("'", '"')
            )  # fmt: skip
            sources.append(str(source))
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
            + ["--no-build-isolation", "-w", str(wheels), *sources],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert len(list(wheels.glob("*.whl"))) == 6
    return wheels


def offline(index: Path, cache: Path) -> dict[str, str]:
    """pip and uv see the wheel folder and no index."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(index),
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(index),
        "UV_CACHE_DIR": str(cache),
    }


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> Path:
    """The canary's Python: a venv with its own pip, where the packages under test are
    installed; the test tools (pytest, papermill, ipykernel) are this interpreter's, seen
    through a .pth line (the bisection leaves everything outside the venv's site-packages
    alone)."""
    env_dir = tmp_path_factory.mktemp("canary-env")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    python = str(env_dir / "bin" / "python")
    done = subprocess.run([python, "-c", purelib], capture_output=True, text=True, check=True)
    inner = done.stdout.strip()
    Path(inner, "tools.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def tiny_repo(
    tmp_path: Path, rendered: Path, index: Path, pins: list[str], tests: str, notebook=False
) -> Path:
    """A repo shaped like a generated one: the rendered .github, requirements.lock (uv, from
    the wheel folder), tests, and (``notebook``) a notebook that calls beta.legacy()."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    subprocess.run(["cp", "-r", str(rendered / ".github"), str(repo / ".github")], check=True)
    (repo / "pyproject.toml").write_text(  # as the generated pyproject.toml loads the runner
        '[tool.pytest.ini_options]\ntestpaths = ["tests", "notebooks"]\n'
        'pythonpath = [".github/scripts"]\naddopts = "-p notebooks -p no:cacheprovider"\n'
    )
    (repo / "tests" / "test_model.py").write_text(tests)
    if notebook:
        cell = nbformat.v4.new_code_cell("import beta\n\nbeta.legacy()", id="0")
        notebook = nbformat.v4.new_notebook(cells=[cell])
        nbformat.write(notebook, repo / "notebooks" / "01-quickstart.ipynb")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "uv"), "pip", "compile", "-", "--quiet"]
        + ["--generate-hashes", "--no-annotate", "--exclude-newer", "2026-12-01"]
        + ["--python", sys.executable]
        + ["--custom-compile-command", "tutorkit lock --date 2026-12-01"],
        input="\n".join(pins) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **offline(index, tmp_path / "uv-cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (repo / "requirements.lock").write_text(done.stdout)
    return repo


def bash(run: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def rerun(run: str, repo: Path, env: dict[str, str]) -> str:
    """The newest releases installed again, then the bisection step ``run``: its report."""
    assert bash(f"python -m pip install --quiet {' '.join(NEWEST)}", repo, env).returncode == 0
    Path(env["GITHUB_OUTPUT"]).write_text("")
    done = bash(run, repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return outputs(env)["culprit"]


def canary_run(
    rendered: Path, repo: Path, environment: Path, index: Path, tmp_path: Path, run=None
):
    """The newest releases installed in the canary's Python, then the workflow's test step
    (it must fail), then its bisection step (``run``: the step's command, or a variant of it);
    the step's result and the environment it ran in."""
    env = {
        **actions_env(tmp_path),
        **offline(index, tmp_path / "uv-cache"),
        "PATH": f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only the runner, as in a generated repo's venv
    }
    env.pop("VIRTUAL_ENV", None)
    uv = Path(env["RUNNER_TEMP"], "uv", "bin")
    uv.mkdir(parents=True)
    (uv / "uv").symlink_to(Path(sys.executable).parent / "uv")  # what INSTALL_UV installs
    done = bash(f"python -m pip install --quiet {' '.join(NEWEST)}", repo, env)
    assert done.returncode == 0, done.stderr
    done = bash(step(rendered, "dependency-drift.yml", "latest", RUN_TESTS)["run"], repo, env)
    assert done.returncode == 1, done.stdout + done.stderr
    found = step(rendered, "dependency-drift.yml", "latest", FIND)
    done = bash(run or found["run"], repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, env


def trial_lines(report: str) -> list[str]:
    return [
        re.sub(r" \(\d+\.\d min\)$", "", line) for line in report.splitlines() if line[:1].isdigit()
    ]


SINGLE = (
    "import alpha\nimport beta\nimport gamma\n\n\n"
    "def test_area():\n    assert alpha.scale() * gamma.size() >= 4\n\n\n"
    "def test_legacy():\n    assert beta.legacy() == 'ok'\n"
)


@pytest.mark.slow  # pip installs and a notebook, per trial
def test_the_canary_names_the_one_upgrade_that_breaks_it(variants, index, environment, tmp_path):
    """alpha, beta and gamma all moved from 1.0 to 1.1; beta 1.1 drops legacy(), which a test
    and the notebook call, and needs alpha 1.1, so its trial moves alpha too. Four trials: the
    lock (passes), alpha+beta (fails), alpha (passes), beta (fails)."""
    rendered = variants[VARIANTS[0]]
    pins = ["alpha==1.0", "beta==1.0", "gamma==1.0"]
    repo = tiny_repo(tmp_path, rendered, index, pins, SINGLE, notebook=True)
    done, env = canary_run(rendered, repo, environment, index, tmp_path)
    report = outputs(env)["culprit"]
    broken = "`tests/test_model.py::test_legacy`, `notebooks/01-quickstart.ipynb`"
    assert report.startswith(
        "`beta` 1.0 -> 1.1 (which moves `alpha` 1.0 -> 1.1 with it) breaks " + broken + ".\n\n"
        "Trials (4; at most 12 trials, 40 minutes); each is the lock with those upgrades, "
        "resolved with uv as of 20"
    ), report
    assert trial_lines(report) == [
        "1. the lock itself: passes",
        f"2. upgraded `alpha` 1.0 -> 1.1 and `beta` 1.0 -> 1.1: fails: {broken}",
        "3. upgraded `alpha` 1.0 -> 1.1: passes",
        f"4. upgraded `beta` 1.0 -> 1.1 (which moves `alpha` 1.0 -> 1.1 with it): fails: {broken}",
    ]
    assert report in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "::group::Trial 4: the lock, `beta` upgraded" in done.stdout
    # Every trial is resolved as of one moment, the one the report names.
    cutoffs = re.findall(r"^\$ .* pip compile .* --exclude-newer (\S+) ", done.stdout, re.M)
    assert len(cutoffs) == 4 and len(set(cutoffs)) == 1
    assert f"resolved with uv as of {cutoffs[0]} and installed with pip" in report
    assert done.stdout.count("Successfully installed") == 4


PAIR = (
    "import alpha\nimport gamma\n\n\n"
    "def test_area():\n    assert alpha.scale() * gamma.size() < 9\n"
)


@pytest.mark.slow  # pip installs, per trial
def test_two_upgrades_that_break_it_only_together_are_named(variants, index, environment, tmp_path):
    """A repo that locks alpha and gamma: each 1.1 passes alone, the two together fail (3 * 3).
    Three trials; the pair is named with the failing test from the run that failed (--junit).
    beta, installed with the newest releases but not in this lock, is uninstalled by the first
    trial, as lock_check would demand. Then the bound on trials, with --max-trials 1; then a
    test that fails on the lock as well."""
    rendered = variants[VARIANTS[0]]
    repo = tiny_repo(tmp_path, rendered, index, ["alpha==1.0", "gamma==1.0"], PAIR)
    done, env = canary_run(rendered, repo, environment, index, tmp_path)
    report = outputs(env)["culprit"]
    assert report.startswith(
        "`alpha` 1.0 -> 1.1 and `gamma` 1.0 -> 1.1 break `tests/test_model.py::test_area` "
        "together (no one of them alone does).\n\nTrials (3; at most 12 trials"
    ), report
    assert trial_lines(report) == [
        "1. the lock itself: passes",
        "2. upgraded `alpha` 1.0 -> 1.1: passes",
        "3. upgraded `gamma` 1.0 -> 1.1: passes",
    ]
    assert "Successfully uninstalled beta-1.1" in done.stdout

    # The bound: the step's command with --max-trials 1 instead of 12, on the newest releases
    # again. The lock is tried; the report names the smallest failing set known (the newest
    # releases, with the tests that failed on them) and why the search stopped.
    run = step(rendered, "dependency-drift.yml", "latest", FIND)["run"]
    assert run.count("--max-trials 12") == 1
    report = rerun(run.replace("--max-trials 12", "--max-trials 1"), repo, env)
    assert report.startswith(
        "Narrowed to `alpha` 1.0 -> 1.1 and `gamma` 1.0 -> 1.1, which break "
        "`tests/test_model.py::test_area`; the search stopped: the bound (--max-trials 1) is "
        "reached.\n\nTrials (1; at most 1 trials, 40 minutes)"
    ), report
    assert trial_lines(report) == ["1. the lock itself: passes"]

    # A test that fails on the lock too: no newer release is to blame, and one trial says so.
    tests = repo / "tests" / "test_model.py"
    tests.write_text(tests.read_text() + "\n\ndef test_broken_anyway():\n    assert False\n")
    report = rerun(run, repo, env)
    assert report.startswith(
        "The lock itself fails here too: no newer release is to blame (see the run).\n\n"
        "Trials (1; at most 12 trials, 40 minutes)"
    ), report
    assert trial_lines(report) == [
        "1. the lock itself: fails: `tests/test_model.py::test_broken_anyway`"
    ]
