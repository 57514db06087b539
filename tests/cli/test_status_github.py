"""`tutorkit status --github`: a fleet's health as GitHub reports it, and `--fix`.

Every test here talks to a local HTTP server on 127.0.0.1 (tests/github_server.py) that
answers the REST endpoints tutorkit uses with GitHub's documented paths, status codes, headers
and field names (workflow `state`, run `event`/`conclusion`/`created_at`, pulls, commit
statuses, check runs, issues); GITHUB_API_URL points tutorkit at it. The repos are real
generated repos (tests/cli/conftest.py) with real git remotes. No network beyond loopback.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from cli_support import commit_all, tk_subprocess
from gh_stand_in import GhStandIn
from github_server import TOKEN, FakeGitHub, issue, pull, run, workflow
from support import git

HEAD = "c" * 40


def dormant_repo(slug: str) -> dict:
    """A repo GitHub disabled for inactivity, whose weekly run failed, with an update PR."""
    return {
        "workflows": [
            workflow(11, "notebooks.yml", "disabled_inactivity", slug),
            workflow(12, "template-update.yml", "disabled_inactivity", slug),
            workflow(13, "dependency-drift.yml", "disabled_manually", slug),
        ],
        "runs": [
            run(901, 11, "schedule", "success", "2026-01-05T05:17:00Z"),
            run(902, 11, "schedule", "failure", "2026-01-12T05:17:00Z"),
            run(903, 11, "push", "success", "2026-01-13T09:00:00Z"),
        ],
        "pulls": [pull(7, slug, HEAD)],
        "statuses": {
            HEAD: [
                {
                    "state": "failure",
                    "context": "notebooks",
                    "description": "A job failed",
                    "target_url": "https://github.com/x/y/actions/runs/1",
                },
            ]
        },  # fmt: skip
        "check_runs": {
            HEAD: [
                {
                    "id": 1,
                    "name": "pip (Python 3.11)",
                    "status": "completed",
                    "conclusion": "success",
                    "head_sha": HEAD,
                },
                {
                    "id": 2,
                    "name": "conda (Python 3.11)",
                    "status": "in_progress",
                    "conclusion": None,
                    "head_sha": HEAD,
                },
            ]
        },  # fmt: skip
        "issues": [
            issue(3, slug, "The weekly notebooks run fails", ["notebooks-failing"]),
            issue(4, slug, "Newest releases break", ["dependency-drift"]),
            issue(8, slug, "The install cell fails on Colab", ["colab-install"]),
            issue(5, slug, "A pull request with the label", ["notebooks-failing"], is_pull=True),
            issue(6, slug, "Typo in the README", ["bug"]),
        ],
    }


def healthy_repo(slug: str) -> dict:
    return {
        "workflows": [workflow(21, "notebooks.yml", "active", slug)],
        "runs": [run(904, 21, "schedule", "success", "2026-01-12T05:17:00Z")],
        "issues": [issue(1, slug, "Typo", ["bug"])],
    }


@pytest.fixture
def github(monkeypatch):
    """Start a FakeGitHub(repos, ...) and point tutorkit at it with a valid token."""
    servers = []

    def start(repos: dict, **options) -> FakeGitHub:
        server = FakeGitHub(repos, **options).__enter__()
        servers.append(server)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GH_TOKEN", TOKEN)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def on_github(repo, url: str):
    git(repo, "remote", "add", "origin", url)
    return repo


def rows(out: str) -> dict:
    return {r["repo"].rsplit("/", 1)[-1]: r for r in json.loads(out)}


def test_status_github_reports_each_repo(make_repo, tk, github):
    """Workflow states, the last scheduled run, the update PR's checks and tracking issues,
    from the origin remote (https and ssh forms) or, without one, from the answers file."""
    on_github(make_repo("healthy"), "https://github.com/ada/healthy.git")
    on_github(make_repo("dormant"), "git@github.com:ada/dormant.git")
    from_answers = make_repo("from-answers")
    answers = from_answers / ".copier-answers.yml"
    text = re.sub(r"^github_owner: .*$", "github_owner: ada", answers.read_text(), flags=re.M)
    answers.write_text(re.sub(r"^repo_name: .*$", "repo_name: iris-mlp", text, flags=re.M))
    commit_all(from_answers, "Answers name the GitHub repo")
    server = github(
        {
            "ada/healthy": healthy_repo("ada/healthy"),
            "ada/dormant": dormant_repo("ada/dormant"),
            "ada/iris-mlp": healthy_repo("ada/iris-mlp"),
        }
    )
    code, out, err = tk("status", make_repo.fleet, "--github", "--json")
    assert code == 1, err  # behind the template, and the dormant repo needs its author
    found = rows(out)
    assert found["healthy"]["github"] == {
        "repo": "ada/healthy",
        "notebooks_workflow": "active",
        "disabled_for_inactivity": [],
        "reenabled": [],
        "last_scheduled_run": {
            "conclusion": "success",
            "status": "completed",
            "created_at": "2026-01-12T05:17:00Z",
            "html_url": "https://github.com/x/y/actions/runs/904",
        },
        "update_pull_request": None,
        "tracking_issues": [],
        "attention": [],
        "error": "",
    }
    assert found["from-answers"]["github"]["repo"] == "ada/iris-mlp"
    assert found["from-answers"]["github"]["attention"] == []
    dormant = found["dormant"]["github"]
    assert dormant["notebooks_workflow"] == "disabled_inactivity"
    assert dormant["disabled_for_inactivity"] == [".github/workflows/template-update.yml"]
    assert dormant["last_scheduled_run"]["conclusion"] == "failure"  # the push run is not weekly
    assert dormant["update_pull_request"] == {
        "number": 7,
        "html_url": "https://github.com/ada/dormant/pull/7",
        "draft": False,
        "head_sha": HEAD,
        "checks": {"passed": 1, "failing": 1, "pending": 1, "check_runs": "read"},
    }
    assert [(i["number"], i["label"]) for i in dormant["tracking_issues"]] == [
        (3, "notebooks-failing"),
        (4, "dependency-drift"),
        (8, "colab-install"),
    ]
    assert dormant["attention"] == [
        "notebooks workflow disabled_inactivity",
        ".github/workflows/template-update.yml disabled_inactivity",
        "last weekly run: failure",
        "template-update pull request #7: checks failing",
        "open issue #3 (notebooks-failing)",
        "open issue #4 (dependency-drift)",
        "open issue #8 (colab-install)",
    ]
    # Few calls: 4 per repo, 2 more for an open update PR; read-only; the token on each.
    per_repo = {}
    for method, path, _, auth in server.requests:
        assert method == "GET" and auth == f"Bearer {TOKEN}"
        slug = "/".join(path.split("/")[2:4])
        per_repo[slug] = per_repo.get(slug, 0) + 1
    assert per_repo == {"ada/healthy": 4, "ada/iris-mlp": 4, "ada/dormant": 6}
    pulls = [q for m, p, q, _ in server.requests if p == "/repos/ada/dormant/pulls"]
    assert pulls == [{"state": "open", "head": "ada:template-update", "per_page": "1"}]
    runs = [q for m, p, q, _ in server.requests if p.endswith("/runs")]
    assert all(q == {"event": "schedule", "per_page": "1"} for q in runs)


def test_status_github_fix_reenables_only_workflows_disabled_for_inactivity(make_repo, tk, github):
    """--fix: PUT .../enable for each `disabled_inactivity` workflow, never a manual one."""
    on_github(make_repo("dormant"), "https://github.com/ada/dormant")
    server = github({"ada/dormant": dormant_repo("ada/dormant")})
    code, out, _ = tk("status", make_repo.fleet, "--github", "--fix", "--json")
    assert code == 1
    puts = [path for method, path, _, _ in server.requests if method == "PUT"]
    assert puts == [
        "/repos/ada/dormant/actions/workflows/11/enable",
        "/repos/ada/dormant/actions/workflows/12/enable",
    ]
    states = {w["path"]: w["state"] for w in server.repos["ada/dormant"]["workflows"]}
    assert states[".github/workflows/dependency-drift.yml"] == "disabled_manually"
    health = rows(out)["dormant"]["github"]
    assert health["reenabled"] == [
        ".github/workflows/notebooks.yml",
        ".github/workflows/template-update.yml",
    ]
    assert health["notebooks_workflow"] == "active" and health["disabled_for_inactivity"] == []


def test_status_github_table(make_repo, tk, github):
    """The table's GitHub columns, as `report.github_columns` words each one."""
    from tutorkit.github import GitHubHealth
    from tutorkit.report import github_columns

    on_github(make_repo("dormant"), "https://github.com/ada/dormant.git")
    github({"ada/dormant": dormant_repo("ada/dormant")})
    code, out, _ = tk("status", make_repo.fleet, "--github")
    assert code == 1
    header = next(line for line in out.splitlines() if "repo" in line)
    for column in ("notebooks workflow", "weekly run", "update PR", "tracking issues"):
        assert column in header
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    health = GitHubHealth(
        **{k: v for k, v in json.loads(out)[0]["github"].items() if k != "attention"}
    )
    assert github_columns(health) == [
        "disabled_inactivity (also disabled for inactivity: template-update.yml)",
        "failure 2026-01-12",
        "#7 checks: 1 passed, 1 failing, 1 pending",
        "#3 notebooks-failing, #4 dependency-drift, #8 colab-install",
    ]
    assert github_columns(GitHubHealth(error="GitHub has no such repository")) == [
        "error: GitHub has no such repository",
        "",
        "",
        "",
    ]


def test_check_runs_a_fine_grained_token_cannot_read(make_repo, tk, github):
    """GitHub gives fine-grained tokens no Checks permission: a 403 on check runs leaves the
    commit statuses counted and says so; everything else is reported as usual."""
    on_github(make_repo("dormant"), "https://github.com/ada/dormant.git")
    github({"ada/dormant": dormant_repo("ada/dormant")}, forbidden="/check-runs")
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    health = rows(out)["dormant"]["github"]
    assert health["error"] == ""
    assert health["update_pull_request"]["checks"] == {
        "passed": 0,
        "failing": 1,
        "pending": 0,
        "check_runs": "not readable with this token",
    }
    from tutorkit.github import GitHubHealth
    from tutorkit.report import github_columns

    fields = {k: v for k, v in health.items() if k != "attention"}
    assert github_columns(GitHubHealth(**fields))[2] == (
        "#7 checks: 1 failing (check runs not readable with this token)"
    )


def test_asks_repos_at_the_same_time(make_repo, tk, github):
    """Several repos are asked concurrently (the server holds each answer 0.3 s)."""
    repos = {}
    for name in ("a", "b", "c", "d"):
        on_github(make_repo(name), f"https://github.com/ada/{name}.git")
        repos[f"ada/{name}"] = healthy_repo(f"ada/{name}")
    server = github(repos, delay=0.3)
    started = time.monotonic()
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    elapsed = time.monotonic() - started
    assert len(server.requests) == 16 and server.most_in_flight >= 4
    assert elapsed < 16 * 0.3 / 2, elapsed  # one at a time would take 4.8 s and more
    assert all(r["github"]["error"] == "" for r in json.loads(out))


def test_an_unknown_repo_is_its_row_not_the_fleet(make_repo, tk, github):
    """404: that repo's row says so; the others are reported as usual."""
    on_github(make_repo("gone"), "https://github.com/ada/gone.git")
    on_github(make_repo("here"), "https://github.com/ada/here.git")
    github({"ada/here": healthy_repo("ada/here")})
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    found = rows(out)
    assert code == 1
    assert found["gone"]["github"]["error"] == (
        "GitHub has no such repository, or the token cannot see it "
        "(404 on GET /repos/ada/gone/actions/workflows)"
    )
    assert found["gone"]["github"]["attention"] == [found["gone"]["github"]["error"]]
    assert found["here"]["github"]["error"] == ""


def test_names_are_checked_before_they_reach_a_url(make_repo, tk, github):
    """No github.com remote, and answers that are no GitHub names: no request at all."""
    repo = make_repo("odd")
    answers = repo / ".copier-answers.yml"
    bad = re.sub(r"^github_owner: .*$", "github_owner: ../../evil", answers.read_text(), flags=re.M)
    answers.write_text(bad)
    commit_all(repo, "Odd owner")
    git(repo, "remote", "add", "origin", "https://gitlab.com/ada/odd.git")
    server = github({})
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    (row,) = json.loads(out)
    assert code == 1 and server.requests == []
    assert row["github"]["error"].startswith(
        "the answers file's github_owner and repo_name names no valid GitHub repository "
        "('../../evil',"
    )


def one_sentence(proc) -> str:
    assert proc.stdout == "", proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_token_is_one_sentence(make_repo, tmp_path, github):
    """No GH_TOKEN, no GITHUB_TOKEN, no gh: one sentence, exit 1, GitHub never asked."""
    repo = on_github(make_repo(), "https://github.com/ada/digits-cnn.git")
    server = github({})
    proc = tk_subprocess(
        "status",
        repo,
        "--github",
        env={"GH_TOKEN": "", "GITHUB_TOKEN": "", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1
    assert one_sentence(proc).startswith("tutorkit: error: No GitHub token: set GH_TOKEN")
    assert server.requests == []


def test_token_from_gh_auth_token(make_repo, tk, github, tmp_path, monkeypatch):
    """Without GH_TOKEN or GITHUB_TOKEN, `gh auth token` gives it (a recording gh stand-in)."""
    on_github(make_repo("healthy"), "https://github.com/ada/healthy.git")
    server = github({"ada/healthy": healthy_repo("ada/healthy")})
    gh = GhStandIn(tmp_path, "ada/healthy", token=TOKEN)
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("PATH", gh.env()["PATH"])
    monkeypatch.setenv("GH_STAND_IN_STATE", str(gh.state_file))
    code, out, _ = tk("status", make_repo.fleet, "--github", "--json")
    assert gh.calls == [["auth", "token"]]
    assert {auth for _, _, _, auth in server.requests} == {f"Bearer {TOKEN}"}
    assert rows(out)["healthy"]["github"]["error"] == ""


@pytest.mark.parametrize(
    ("options", "token", "says"),
    [
        (
            {"rate_limited": True},
            TOKEN,
            "GitHub's API rate limit for this token is used up until 01:00 UTC",
        ),
        ({}, "ghp_revoked", "GitHub refused the token (401 Bad credentials)"),
    ],
)
def test_rate_limit_and_bad_token_stop_with_one_sentence(make_repo, github, options, token, says):
    repo = on_github(make_repo(), "https://github.com/ada/digits-cnn.git")
    server = github({"ada/digits-cnn": healthy_repo("ada/digits-cnn")}, **options)
    proc = tk_subprocess("status", repo, "--github", env={"GH_TOKEN": token})
    assert proc.returncode == 1
    assert one_sentence(proc).startswith(f"tutorkit: error: {says}")
    assert len(server.requests) == 1  # the first answer stops the command


def test_unreachable_api_and_bad_api_url(make_repo, github):
    repo = on_github(make_repo(), "https://github.com/ada/digits-cnn.git")
    server = github({})
    closed = server.url
    server.__exit__(None, None, None)
    proc = tk_subprocess("status", repo, "--github", env={"GITHUB_API_URL": closed})
    assert proc.returncode == 1
    assert one_sentence(proc).startswith(f"tutorkit: error: Cannot reach GitHub's API at {closed}")
    proc = tk_subprocess("status", repo, "--github", env={"GITHUB_API_URL": "ftp://example.org"})
    assert proc.returncode == 1
    assert "GITHUB_API_URL='ftp://example.org' is not an http(s) URL" in one_sentence(proc)


def test_fix_needs_github(make_repo):
    proc = tk_subprocess("status", make_repo(), "--fix")
    assert proc.returncode == 2
    assert one_sentence(proc) == "tutorkit: error: --fix works with --github: add --github."


def test_plain_status_json_has_no_github_fields(make_repo, tk):
    code, out, _ = tk("status", make_repo(), "--json")
    assert "github" not in json.loads(out)[0]
