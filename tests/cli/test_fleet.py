"""`tutorkit fleet init` and waves: a fleet repo made and updated like every member of the
template family, and `tutorkit update --wave` rolling a release to one group of the registry.

Real Copier, real git repos and tags (tests/cli/conftest.py: the template at v1.0.0 and
v1.1.0). No network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from cli_support import NEW, OLD, commit_all
from github_server import TOKEN, FakeGitHub, pull
from github_server import workflow as workflow_entry
from support import TEMPLATE_TAG, files_of, git
from test_dashboard import browser, open_page, rows_in  # noqa: F401 (browser: a fixture)

BIN = Path(sys.executable).parent


def test_fleet_init_makes_the_same_repo_as_copier_copy_kind_fleet(tk, tmp_path, template):
    code, out, err = tk(
        "fleet", "init", tmp_path / "mine", "--data", "github_owner=ada", "--template-url", template
    )
    assert code == 0, err
    mine = tmp_path / "mine"
    assert "list your repos in" in out
    assert git(mine, "log", "--format=%s").splitlines() == [f"Create from tutorkit {TEMPLATE_TAG}"]
    assert git(mine, "status", "--porcelain") == ""
    answers = yaml.safe_load((mine / ".copier-answers.yml").read_text())
    assert (answers["kind"], answers["github_owner"]) == ("fleet", "ada")
    plain = tmp_path / "plain"
    done = subprocess.run(
        [BIN / "copier", "copy", "--defaults", "-d", "kind=fleet", "-d", "github_owner=ada",
         "--vcs-ref", OLD, template, plain],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert files_of(plain) == files_of(mine) - {p for p in files_of(mine) if p.startswith(".git/")}
    assert (plain / "fleet.yml").read_text() == (mine / "fleet.yml").read_text()


def test_a_fleet_repo_is_updated_and_its_registry_stays_the_authors(tk, tmp_path, template):
    """`tutorkit update` on a fleet repo: the template's files follow, fleet.yml is kept."""
    import copier

    repo = tmp_path / "fleet"
    copier.run_copy(template, repo, data={"kind": "fleet"}, vcs_ref=OLD, defaults=True, quiet=True)
    git(repo, "init", "--quiet")
    commit_all(repo, "Fleet repo")
    registry = "repos:\n  - repo: ada/digits-cnn\n    wave: canary\n"
    (repo / "fleet.yml").write_text(registry)
    commit_all(repo, "Author lists the repos")
    code, out, err = tk("update", repo, "--json")
    [result] = json.loads(out)
    assert code == 0, err
    assert (result["result"], result["to_version"]) == ("updated", NEW)
    assert (repo / "fleet.yml").read_text() == registry
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEW
    assert (repo / ".github" / "workflows" / "dashboard.yml").is_file()
    assert not (repo / "notebooks").exists()


def fleet_with_waves(make_repo, tmp_path) -> Path:
    """Four repos on github.com (ada/a ... ada/d); a registry: a and b canary, c rest, d not
    listed."""
    for name in "abcd":
        git(make_repo(name), "remote", "add", "origin", f"https://github.com/ada/{name}.git")
    registry = tmp_path / "fleet.yml"
    registry.write_text(
        "repos:\n"
        "  - repo: ada/a\n    wave: canary\n"
        "  - repo: ada/B\n    wave: canary\n    notes: names compare as GitHub does\n"
        "  - repo: ada/c\n"
    )
    return registry


def versions(fleet: Path) -> dict[str, str]:
    return {
        repo.name: yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"]
        for repo in sorted(fleet.iterdir())
    }


def test_update_wave_updates_that_group_only(make_repo, tk, tmp_path):
    registry = fleet_with_waves(make_repo, tmp_path)
    code, out, err = tk("update", make_repo.fleet, "--wave", "canary", "--registry", registry)
    assert code == 0, err
    assert versions(make_repo.fleet) == {"a": NEW, "b": NEW, "c": OLD, "d": OLD}
    code, out, err = tk("update", make_repo.fleet, "--wave", "rest", "--registry", registry)
    assert code == 0, err
    assert versions(make_repo.fleet) == {"a": NEW, "b": NEW, "c": NEW, "d": OLD}


def test_update_wave_that_names_no_repo_changes_nothing(make_repo, tk, tmp_path):
    registry = fleet_with_waves(make_repo, tmp_path)
    code, _, err = tk("update", make_repo.fleet, "--wave", "late", "--registry", registry)
    assert code == 1
    assert "No repo of" in err and "'late'" in err and "canary, rest" in err
    code, _, err = tk("update", make_repo.fleet / "d", "--wave", "canary", "--registry", registry)
    assert code == 1 and "None of the repos given is in wave 'canary'" in err
    code, _, err = tk("update", make_repo.fleet, "--wave", "canary", "--registry", tmp_path / "x")
    assert code == 1 and "Cannot read the registry" in err
    assert set(versions(make_repo.fleet).values()) == {OLD}


# --- canary, then the rest: `tutorkit fleet rollout` against the GitHub stand-in ---
#
# GitHub is tests/github_server.py: it answers the status reads and records the
# workflow_dispatch of each repo's template-update workflow. What that workflow then does on
# GitHub, the test does on the local repo: `tutorkit update --branch template-update` (its
# update step), and the stand-in gets the pull request and its checks (the notebooks' result).


def member(slug: str) -> dict:
    return {
        "workflows": [
            workflow_entry(1, "notebooks.yml", "active", slug),
            workflow_entry(2, "template-update.yml", "active", slug),
        ],
        "runs": [],
        "issues": [],
    }


def take_update(repo: Path, server: FakeGitHub, slug: str, checks: str, tk) -> None:
    """The member's template-update workflow: the update on its branch, the pull request."""
    code, _, err = tk("update", repo, "--branch", "template-update")
    assert code == 0, err
    sha = git(repo, "rev-parse", "template-update").strip()
    server.repos[slug]["pulls"] = [pull(5, slug, sha)]
    server.repos[slug]["statuses"] = {sha: []}
    set_checks(server, slug, checks)


def set_checks(server: FakeGitHub, slug: str, outcome: str) -> None:
    """The update pull request's notebooks check: pending, success or failure."""
    sha = server.repos[slug]["pulls"][0]["head"]["sha"]
    done = outcome != "pending"
    server.repos[slug]["check_runs"] = {
        sha: [
            {"id": 9, "name": "pip (Python 3.11)", "head_sha": sha,
             "status": "completed" if done else "in_progress",
             "conclusion": outcome if done else None},
        ]
    }  # fmt: skip


def dispatched(server: FakeGitHub, since: int) -> list[tuple[str, dict]]:
    return [
        ("/".join(path.split("/")[2:4]), query["body"])
        for method, path, query, _ in server.requests[since:]
        if method == "POST"
    ]


def rollout(tk, registry: Path, clones: Path) -> tuple[int, dict, str]:
    code, out, err = tk("fleet", "rollout", registry, clones, "--json")
    [report] = json.loads(out)
    return code, report, err


def test_a_release_reaches_the_canary_first_and_the_rest_after_it_passes(
    make_repo,
    tk,
    tmp_path,
    monkeypatch,
    browser,  # noqa: F811 (the imported fixture)
):
    registry = fleet_with_waves(make_repo, tmp_path)
    fleet = make_repo.fleet
    slugs = {"ada/a": fleet / "a", "ada/b": fleet / "b", "ada/c": fleet / "c"}
    branch = git(fleet / "a", "rev-parse", "--abbrev-ref", "HEAD").strip()
    stand_in = {slug: member(slug) for slug in [*slugs, "ada/d"]}
    with FakeGitHub(stand_in) as server:
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GH_TOKEN", TOKEN)
        # 0. --dry-run: what would start; nothing is started.
        code, out, err = tk("fleet", "rollout", registry, fleet, "--dry-run")
        assert code == 0, err
        assert "Would start the template update of: ada/a, ada/b." in out
        assert dispatched(server, 0) == []
        # 1. The canary's updates start; c waits.
        code, report, err = rollout(tk, registry, fleet)
        assert code == 0, (err, report)
        assert report["start"] == ["ada/a", "ada/b"] and not report["canary_through"]
        stages = {r["repo"]: r["stage"] for r in report["repos"]}
        assert stages == {"ada/a": "behind", "ada/b": "behind", "ada/c": "waiting for canary"}
        assert dispatched(server, 0) == [("ada/a", {"ref": branch}), ("ada/b", {"ref": branch})]
        for slug in ("ada/a", "ada/b"):
            take_update(slugs[slug], server, slug, "pending", tk)
        # 2. Their notebooks still run: nothing starts.
        mark = len(server.requests)
        code, report, _ = rollout(tk, registry, fleet)
        assert (code, report["start"], dispatched(server, mark)) == (0, [], [])
        # 3. One canary fails: the rest waits, and the command says so (exit 1).
        set_checks(server, "ada/a", "success")
        set_checks(server, "ada/b", "failure")
        code, report, _ = rollout(tk, registry, fleet)
        assert (code, report["blocked"], report["start"]) == (1, ["ada/b"], [])
        # 4. Fixed: the canary is through, the rest's update starts.
        set_checks(server, "ada/b", "success")
        mark = len(server.requests)
        code, report, _ = rollout(tk, registry, fleet)
        assert (code, report["canary_through"], report["start"]) == (0, True, ["ada/c"])
        assert dispatched(server, mark) == [("ada/c", {"ref": branch})]
        take_update(slugs["ada/c"], server, "ada/c", "pending", tk)
        # The dashboard shows the rollout.
        code, _, err = tk(
            "status", fleet, "--github", "--registry", registry, "--html", tmp_path / "site"
        )
    # On the local repos: each took the release on its update branch, in that order; d, not in
    # the registry, was never touched.
    for repo in slugs.values():
        answers = git(repo, "show", "template-update:.copier-answers.yml")
        assert f"_commit: {NEW}" in answers
        assert f"_commit: {OLD}" in (repo / ".copier-answers.yml").read_text()
    assert git(fleet / "d", "branch", "--list", "template-update") == ""
    page = open_page(browser, tmp_path / "site" / "index.html")
    assert "The canary wave is through" in page.inner_text("#rollout-state")
    waves = page.eval_on_selector_all("li.wave", "items => items.map(i => i.innerText)")
    assert waves == ["canary: 2 update PR passing", "rest: 1 update PR pending"]
    cells = {r["repo"].split()[0]: r["template"] for r in rows_in(page)}
    assert "wave canary: update PR passing" in cells["ada/a"]
    assert "wave rest: update PR pending" in cells["ada/c"]
    page.close()
