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
from support import files_of, git

BIN = Path(sys.executable).parent


def test_fleet_init_makes_the_same_repo_as_copier_copy_kind_fleet(tk, tmp_path, template):
    code, out, err = tk(
        "fleet", "init", tmp_path / "mine", "--data", "github_owner=ada", "--template-url", template
    )
    assert code == 0, err
    mine = tmp_path / "mine"
    assert "list your repos in" in out
    assert git(mine, "log", "--format=%s").splitlines() == ["Create from tutorkit v0.2.0"]
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
