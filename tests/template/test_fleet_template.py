"""The fleet member of the template family (`copier copy ... -d kind=fleet`): its files, its
dashboard workflow validated offline like the companion repos' workflows (GitHub's JSON schema,
actionlint, zizmor), and every `run:` of that workflow executed here as GitHub Actions runs it.

GitHub cannot be reached: the clone step reads bare git repos through GITHUB_SERVER_URL (a
file:// folder laid out as owner/name.git), and the dashboard step asks the local REST
stand-in (tests/github_server.py, GitHub's paths and field names) through GITHUB_API_URL.
The Pages steps are GitHub's own actions (upload-pages-artifact, deploy-pages): checked as
data (pins, permissions, the folder they publish), not run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from github_server import TOKEN, FakeGitHub, mixed_fleet
from support import (
    TEMPLATE_TAG,
    actionlint_findings,
    files_of,
    git,
    workflow_schema_errors,
    zizmor_findings,
)
from test_workflow_scripts import run_step
from test_workflows import ACTIONLINT_TOO_OLD, FULL_SHA, VERSION_COMMENT, all_steps, load

CHECKOUT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DASHBOARD, ROLLOUT = "dashboard.yml", "rollout.yml"
# Each `run:` step of the fleet's workflows, and the test here that runs it.
EXERCISED_BY = {
    (DASHBOARD, "build", "Install tutorkit"): "test_install_steps_install_this_tutorkit",
    (DASHBOARD, "build", "Clone the fleet's repos"): "test_dashboard_job_against_stand_ins",
    (DASHBOARD, "build", "Build the dashboard"): "test_dashboard_job_against_stand_ins",
    (ROLLOUT, "rollout", "Install tutorkit"): "test_install_steps_install_this_tutorkit",
    (ROLLOUT, "rollout", "Clone the fleet's repos"): "test_rollout_job_against_stand_ins",
    (ROLLOUT, "rollout", "Start the updates whose wave is due"): (
        "test_rollout_job_against_stand_ins"
    ),
}


@pytest.fixture(scope="module")
def fleet_repo(render, tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("fleet") / "fleet", kind="fleet", github_owner="ada")


def steps_of(repo: Path, name: str = DASHBOARD) -> dict[tuple[str, str], dict]:
    workflow = load(repo / ".github" / "workflows" / name)
    return {
        (job, step.get("name", step.get("uses", ""))): step for job, step in all_steps(workflow)
    }


def test_a_fleet_repo_has_the_registry_and_the_dashboard_workflow_only(
    fleet_repo, render, tmp_path
):
    assert files_of(fleet_repo) == {
        ".copier-answers.yml",
        ".gitignore",
        ".github/requirements-tutorkit.lock",  # what its workflows install, hashed
        ".github/workflows/dashboard.yml",
        ".github/workflows/rollout.yml",
        "README.md",
        "fleet.yml",
    }
    answers = yaml.safe_load((fleet_repo / ".copier-answers.yml").read_text())
    assert answers["kind"] == "fleet" and answers["_commit"] == TEMPLATE_TAG
    registry = yaml.safe_load((fleet_repo / "fleet.yml").read_text())
    assert registry == {"repos": []}
    assert "#  - repo: ada/digits-cnn" in (fleet_repo / "fleet.yml").read_text()
    # The default is still a companion repo: answers files without `kind` stay valid.
    tutorial = render(tmp_path / "tutorial")
    assert yaml.safe_load((tutorial / ".copier-answers.yml").read_text())["kind"] == "tutorial"
    assert not (tutorial / "fleet.yml").exists()


def test_fleet_workflows_pass_every_validator(fleet_repo):
    files = [fleet_repo / ".github" / "workflows" / name for name in (DASHBOARD, ROLLOUT)]
    assert workflow_schema_errors(files) == ""
    findings = actionlint_findings(files)
    assert [f for f in findings if not f["message"].startswith(ACTIONLINT_TOO_OLD)] == []
    assert zizmor_findings(fleet_repo / ".github") == []


def test_dashboard_workflow_least_privilege_pinned(fleet_repo):
    """Nothing writes but the deploy job (Pages and its OIDC proof); actions pinned by SHA, at
    the releases tutorkit's own docs workflow uses; the page is what Pages publishes."""
    path = fleet_repo / ".github" / "workflows" / DASHBOARD
    workflow = load(path)
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert set(workflow["on"]) == {"schedule", "push", "workflow_dispatch"}
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": ["fleet.yml"]}
    own = (CHECKOUT / ".github" / "workflows" / "docs.yml").read_text()
    for _, step in all_steps(workflow):
        if "uses" in step:
            assert FULL_SHA.match(step["uses"]), step["uses"]
            if "pages" in step["uses"]:
                assert step["uses"] in own
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
        assert "${{" not in step.get("run", ""), "values reach run: through env: only"
    for line in path.read_text().splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert VERSION_COMMENT.search(line), line
    steps = steps_of(fleet_repo)
    upload = next(s for s in steps.values() if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site/"
    assert "--html site" in steps["build", "Build the dashboard"]["run"]


def test_rollout_workflow_least_privilege_and_the_members_gate(fleet_repo, render, tmp_path):
    """The rollout job only reads this repo (FLEET_ROLLOUT_TOKEN starts the members' updates);
    a member with TUTORKIT_ROLLOUT=fleet skips its weekly update and runs when started."""
    path = fleet_repo / ".github" / "workflows" / ROLLOUT
    workflow = load(path)
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["rollout"]["permissions"] == {"contents": "read"}
    for _, step in all_steps(workflow):
        assert "uses" not in step or FULL_SHA.match(step["uses"])
        assert "${{" not in step.get("run", "")
    member = load(render(tmp_path / "member") / ".github" / "workflows" / "template-update.yml")
    assert set(member["on"]) == {"schedule", "workflow_dispatch"}
    assert member["jobs"]["update"]["if"] == (
        "github.event_name != 'schedule' || vars.TUTORKIT_ROLLOUT != 'fleet'"
    )


def test_every_run_step_is_exercised(fleet_repo):
    runs = {
        (name, job, step_name)
        for name in (DASHBOARD, ROLLOUT)
        for (job, step_name), step in steps_of(fleet_repo, name).items()
        if "run" in step
    }
    assert runs == set(EXERCISED_BY)
    assert set(EXERCISED_BY.values()) <= set(globals())


def test_install_steps_install_this_tutorkit(fleet_repo, render, tmp_path):
    """The fleet's workflows install tutorkit exactly as a companion repo's template-update
    workflow does (from tutorkit's own repository at the recorded release tag, never from a
    package index): the same script, which test_workflow_scripts.py executes."""
    member = render(tmp_path / "member")
    update = load(member / ".github" / "workflows" / "template-update.yml")
    (wanted,) = [
        step["run"]
        for job in update["jobs"].values()
        for step in job["steps"]
        if step.get("name") == "Install tutorkit"
    ]
    assert "git+https://github.com/tutorkit/tutorkit.git@$tag" in wanted
    for name, job in ((DASHBOARD, "build"), (ROLLOUT, "rollout")):
        assert steps_of(fleet_repo, name)[job, "Install tutorkit"]["run"] == wanted
    lock = ".github/requirements-tutorkit.lock"  # the same hashed dependencies, in both repos
    assert (fleet_repo / lock).read_bytes() == (member / lock).read_bytes()


def publish(render, remotes: Path, slug: str, tmp_path: Path) -> None:
    """A companion repo at remotes/owner/name.git, as `git clone` from GitHub would see it."""
    work = render(tmp_path / "work" / slug.replace("/", "-"))
    git(work, "init", "--quiet")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "Generated")
    bare = remotes / f"{slug}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(bare))


SLUGS = ["ada/digits-cnn", "ada/iris-mlp", "grace/wine-tree"]


@pytest.fixture
def fleet_checkout(fleet_repo, render, tmp_path) -> tuple[Path, dict]:
    """The fleet repo as the workflow's checkout sees it, its registry naming three repos
    published as bare git repos; and the environment GitHub gives every step."""
    remotes = tmp_path / "remotes"
    for slug in SLUGS:
        publish(render, remotes, slug, tmp_path)
    work = tmp_path / "fleet"
    shutil.copytree(fleet_repo, work)
    (work / "fleet.yml").write_text(
        "repos:\n"
        "  - repo: ada/digits-cnn\n    wave: canary\n    notes: first\n"
        "  - repo: ada/iris-mlp\n"
        "  - repo: grace/wine-tree\n"
    )
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    base = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_SERVER_URL": remotes.as_uri()}
    return work, base


def test_dashboard_job_against_stand_ins(fleet_checkout):
    """The build job's run: steps in order, in a clone of the fleet repo: the registry's repos
    cloned (through a token header that never lands in a remote URL), then the page built."""
    work, base = fleet_checkout
    slugs, runner_temp = SLUGS, Path(base["RUNNER_TEMP"])
    steps = steps_of(work)
    done = run_step(steps["build", "Clone the fleet's repos"], work, {"GH_TOKEN": TOKEN}, base)
    assert done.returncode == 0, done.stderr
    clones = runner_temp / "fleet"
    assert sorted(p.name for p in clones.iterdir()) == [
        "ada__digits-cnn",
        "ada__iris-mlp",
        "grace__wine-tree",
    ]
    for clone in clones.iterdir():
        origin = git(clone, "remote", "get-url", "origin").strip()
        assert origin == f"https://github.com/{clone.name.replace('__', '/')}.git"
        assert TOKEN not in (clone / ".git" / "config").read_text()
    repos, states = mixed_fleet(slugs)
    with FakeGitHub(repos) as server:
        base["GITHUB_API_URL"] = server.url
        done = run_step(steps["build", "Build the dashboard"], work, {"GH_TOKEN": TOKEN}, base)
    assert done.returncode == 0, done.stderr
    rows = json.loads((work / "site" / "status.json").read_text())
    assert [row["github"]["repo"] for row in rows] == slugs
    assert [row["github"]["error"] for row in rows] == ["", "", ""]
    page = (work / "site" / "index.html").read_text()
    assert all(slug in page for slug in slugs)
    assert "site/" in (work / ".gitignore").read_text().split()
    assert [row["wave"] for row in rows] == ["canary", "rest", "rest"]
    assert 'id="rollout"' in page


def test_rollout_job_against_stand_ins(fleet_checkout):
    """The rollout job's run: steps: every repo is at the latest template release already,
    then one is behind (the template has a newer tag): the canary's update starts first."""
    work, base = fleet_checkout
    steps = steps_of(work, ROLLOUT)
    clone = steps["rollout", "Clone the fleet's repos"]
    assert run_step(clone, work, {"GH_TOKEN": TOKEN}, base).returncode == 0
    repos = {slug: fleet_repo_payload(slug) for slug in SLUGS}
    start = steps["rollout", "Start the updates whose wave is due"]
    with FakeGitHub(repos) as server:
        base["GITHUB_API_URL"] = server.url
        done = run_step(start, work, {"GH_TOKEN": TOKEN}, base)
        assert done.returncode == 0, done.stderr
        assert "Started the template update of: none." in done.stdout
        assert not [r for r in server.requests if r[0] == "POST"]
        # A newer release of the template: the canary's update starts, the rest waits.
        clones = Path(base["RUNNER_TEMP"]) / "fleet"
        template = yaml.safe_load((clones / "ada__iris-mlp" / ".copier-answers.yml").read_text())
        upstream = Path(template["_src_path"].removeprefix("file://"))
        git(upstream, "tag", "v99.0.0")
        try:
            done = run_step(start, work, {"GH_TOKEN": TOKEN}, base)
        finally:  # the session's template: no test after this one sees the tag
            git(upstream, "tag", "-d", "v99.0.0")
    assert done.returncode == 0, done.stderr
    assert "Started the template update of: ada/digits-cnn." in done.stdout
    posts = [(path, query["body"]) for _, path, query, _ in server.requests if "body" in query]
    assert posts == [
        (
            "/repos/ada/digits-cnn/actions/workflows/template-update.yml/dispatches",
            {"ref": "main"},
        )
    ]


def fleet_repo_payload(slug: str) -> dict:
    return {
        "workflows": [
            {"id": 1, "name": "notebooks", "path": ".github/workflows/notebooks.yml",
             "state": "active"},
            {"id": 2, "name": "template-update", "path": ".github/workflows/template-update.yml",
             "state": "active"},
        ],
        "runs": [],
        "issues": [],
    }  # fmt: skip


def test_a_registry_the_workflow_cannot_use_is_one_sentence(fleet_repo, tmp_path):
    cases = {
        "repos:\n  - repo: ada\n": "'ada' is not a GitHub repo (owner/name)",
        "repos:\n  - repo: ada/x\n  - repo: Ada/X\n": "lists Ada/X twice",
        "repos:\n  - repo: ada/x\n    owner: me\n": "unknown keys ['owner']",
        "repos:\n  - repo: ada/x\n    wave: Canary!\n": "is not a wave name",
        "repo: ada/x\n": "has no `repos:` list",
    }
    for text, expected in cases.items():
        registry = tmp_path / "fleet.yml"
        registry.write_text(text)
        done = subprocess.run(
            [str(BIN / "tutorkit"), "fleet", "clone", str(registry), str(tmp_path / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 1 and expected in done.stderr, (text, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()
