"""`tutorkit status --github --html DIR`: the fleet dashboard, checked in a real Chromium.

GitHub is the local stand-in (tests/github_server.py, GitHub's documented paths and field
names, artifacts served as zips behind a 302 as GitHub does); the repos are real generated
repos (tests/cli/conftest.py) whose `origin` remotes name them on github.com. The page is
opened in Debian's Chromium through Playwright's Python package; without that browser the
tests skip, except under CI=true, where they fail (.ci/run installs it). Each test writes its
screenshots under its tmp_path and prints their paths.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_support import NEW, OLD, commit_all
from github_server import STATES, TOKEN, FakeGitHub, _last_monday, junit_xml, mixed_fleet
from support import git

from tutorkit.dashboard import GRACE, render
from tutorkit.github import GitHubHealth, junit_cases

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (no browser download)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "no chromium on PATH: apt-get install -y --no-install-recommends chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_page(browser, page_file: Path, width: int = 1280, sort: str = ""):
    page = browser.new_page(viewport={"width": width, "height": 900})
    blocked = []
    page.on("request", lambda r: None if r.url.startswith("file:") else blocked.append(r.url))
    page.on("pageerror", lambda error: blocked.append(f"script error: {error}"))
    page.goto(page_file.as_uri() + (f"#sort={sort}" if sort else ""))
    page.wait_for_load_state("load")
    page.blocked = blocked
    return page


def rows_in(page) -> list[dict]:
    """Each row of the fleet table as the browser shows it: cell text by column."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#fleet tbody tr')).map(tr => {
            const cells = {};
            for (const td of tr.cells) cells[td.dataset.label] = td.innerText;
            cells.outcomes = Array.from(tr.querySelectorAll('li.nb')).map(
                li => li.dataset.outcome);
            cells.row_class = tr.className;
            return cells;
        })"""
    )


def test_recorded_nbmake_report_and_the_stand_in_agree():
    """The stand-in's junit has the shape nbmake 1.5.5 wrote in a real run (recorded)."""
    recorded = junit_cases((DATA / "nbmake-junit.xml").read_bytes())
    assert recorded == [
        {
            "file": "notebooks/01 train.ipynb",
            "name": "01 train.ipynb",
            "outcome": "passed",
            "seconds": 0.659,
        },
        {
            "file": "notebooks/02-evaluate.ipynb",
            "name": "02-evaluate.ipynb",
            "outcome": "failed",
            "seconds": 0.599,
        },
    ]
    made = junit_cases(
        junit_xml(
            [
                ("notebooks/01 train.ipynb", "passed", 0.659),
                ("notebooks/02-evaluate.ipynb", "failed", 0.599),
            ]
        ).encode()
    )
    assert made == recorded


def test_recorded_runner_report_reads_as_the_nbmake_one():
    """The notebook runner (.github/scripts/notebooks.py: the starter's pytest and every layout's
    CI) writes its junit in nbmake's shape, so reports of repos made before and after it read
    alike (recorded from a real run: a notebook passed, one failed, one not run here)."""
    recorded = junit_cases((DATA / "notebooks-runner-junit.xml").read_bytes())
    cases = [
        ("notebooks/01 train.ipynb", "passed", 1.685),
        ("notebooks/02-evaluate.ipynb", "failed", 1.173),
        ("notebooks/03-gpu.ipynb", "skipped", 0.001),
    ]
    assert recorded == [
        {"file": path, "name": path.rsplit("/", 1)[-1], "outcome": outcome, "seconds": seconds}
        for path, outcome, seconds in cases
    ]
    assert junit_cases(junit_xml(cases).encode()) == recorded


def make_fleet(make_repo, count: int) -> list[str]:
    """``count`` repos, ada/tutorial-NN on github.com; the "current" ones at the latest tag."""
    slugs = []
    for index in range(count):
        name = f"tutorial-{index:02d}"
        repo = make_repo(name)
        git(repo, "remote", "add", "origin", f"https://github.com/ada/{name}.git")
        if STATES[index % len(STATES)] == "current":
            answers = repo / ".copier-answers.yml"
            answers.write_text(answers.read_text().replace(OLD, NEW))
            commit_all(repo, "At the latest template")
        slugs.append(f"ada/{name}")
    return slugs


def calls_per_repo(server: FakeGitHub) -> dict[str, int]:
    counted: dict[str, int] = {}
    for _, path, _, _ in server.requests:
        if path.startswith("/repos/"):
            slug = "/".join(path.split("/")[2:4])
            counted[slug] = counted.get(slug, 0) + 1
    return counted


@pytest.fixture
def dashboard(make_repo, tk, tmp_path, monkeypatch):
    """`tutorkit status FLEET --github --html tmp_path/site` for a mixed fleet of ``count``
    repos; returns (slugs, slug -> state, the stand-in, (exit code, stdout, stderr))."""

    def build(count: int, *options: str):
        slugs = make_fleet(make_repo, count)
        repos, states = mixed_fleet(slugs)
        with FakeGitHub(repos) as server:
            monkeypatch.setenv("GITHUB_API_URL", server.url)
            monkeypatch.setenv("GH_TOKEN", TOKEN)
            done = tk("status", make_repo.fleet, "--github", "--html", tmp_path / "site", *options)
        return slugs, states, server, done

    return build


def test_dashboard_of_thirty_repos_in_mixed_states(dashboard, tmp_path, browser):
    """30 repos: current, behind, disabled_inactivity, a failing notebook, an update PR with
    failing checks, no scheduled run for 90 days; each state as the browser shows it."""
    slugs, states, server, (code, printed, err) = dashboard(30, "--json")
    out = tmp_path / "site"
    assert code == 1, err
    data = json.loads(printed)
    assert json.loads((out / "status.json").read_text()) == data  # the page's data is --json's
    by_slug = {row["github"]["repo"]: row for row in data}
    assert {row["github"]["error"] for row in data} == {""}
    assert {len(row["notebook_reports"]) for row in data} == {5}

    # The token went to the API only: the artifact downloads (302 elsewhere) carried none.
    blobs = [auth for _, path, _, auth in server.requests if path.startswith("/_blobs/")]
    assert len(blobs) == 30 * 5 and set(blobs) == {""}
    calls = calls_per_repo(server)
    for slug in slugs:
        extra = 2 if states[slug] == "update PR failing checks" else 0
        assert calls[slug] == 4 + 1 + 5 + extra, slug  # + the artifact list and 5 zips

    page = open_page(browser, out / "index.html", sort="name")
    shot = tmp_path / "dashboard-desktop.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"dashboard screenshot: {shot}")
    assert page.blocked == []
    shown = {row["repo"].split()[0]: row for row in rows_in(page)}
    assert list(shown) == sorted(slugs)
    for slug in slugs:
        row, state = shown[slug], states[slug]
        check_state(row, state, by_slug[slug], now=datetime.now(UTC))
    assert "30 repos, 20 need their author, 25 behind the template" in page.inner_text("#summary")

    radar = page.evaluate(
        """() => Array.from(document.querySelectorAll('#radar tbody tr')).map(tr => [
            tr.querySelector('.message').innerText, Number(tr.querySelector('.count').innerText),
            tr.querySelectorAll('li').length])"""
    )
    assert radar == [
        ["FutureWarning: You are using torch.load with weights_only=False", 15, 15],
        ["UserWarning: This DataLoader will create 4 worker processes", 10, 10],
    ]
    page.close()


def missed(weeks: int, now: datetime) -> int:
    """Firings of the weekly cron missed by a repo whose last run was ``weeks`` before the
    latest one (the newest firing counts once the dashboard's grace has passed)."""
    return weeks - 1 + (now - _last_monday(now) >= GRACE)


def check_state(row: dict, state: str, data: dict, now: datetime) -> None:
    """What one repo's row must show for its state, and no more trouble than that state has."""
    template = row["template"]
    if state == "current":
        assert template == f"{NEW} (current)" and row["row_class"] == "ok", row
        assert "all well" in row["attention"]
    else:
        assert template == f"{OLD}, 1 release behind {NEW}", row
    if state == "disabled_inactivity":
        assert row["workflow"].startswith("disabled_inactivity")
        assert re.search(r"quiet for (6[3-9]|70) days", row["weekly run"]), row
        assert f"missed {missed(9, now)} scheduled runs" in row["weekly run"]
    else:
        assert row["workflow"] == "active"
    if state == "no runs for 90 days":
        assert re.search(r"quiet for (9[1-8]) days", row["weekly run"]), row
        assert f"missed {missed(13, now)} scheduled runs" in row["weekly run"]
        assert f"weekly run quiet ({missed(13, now)} missed)" in row["attention"]
    elif state != "disabled_inactivity":
        assert "missed" not in row["weekly run"], row
    if state == "failing notebook":
        assert row["weekly run"].startswith("failure")
        assert row["outcomes"][:2] == ["passed", "failed"]
        assert "notebooks/02-evaluate.ipynb: failed" in row["notebooks"]
        assert "notebooks-failing: The weekly notebooks run fails" in row["tracking issues"]
    else:
        assert "failed" not in row["outcomes"] and row["tracking issues"] == "none", row
    if state == "update PR failing checks":
        assert row["update PR"] == "#3: 1 passed, 1 failing"
        assert "template-update pull request #3: checks failing" in row["attention"]
    else:
        assert row["update PR"] == "none"
    trend = data["notebook_reports"]
    first = [c["seconds"] for r in reversed(trend) for c in r["cases"] if "01 train" in c["file"]]
    assert f"{first[0]:.1f} s → {first[-1]:.1f} s" in row["notebooks"]


def test_dashboard_sorts_and_fits_a_phone(dashboard, tmp_path, browser):
    """Sorting by a column (a click, or #sort= in the address) in the browser; on a
    390-pixel-wide screen each repo is a card and nothing scrolls sideways."""
    slugs, states, _, _ = dashboard(6)
    out = tmp_path / "site"
    page = open_page(browser, out / "index.html", sort="-quiet")
    order = [row["repo"].split()[0] for row in rows_in(page)]
    assert states[order[0]] == "no runs for 90 days"
    assert states[order[1]] == "disabled_inactivity"
    page.click("th[data-key=name] button")
    assert [row["repo"].split()[0] for row in rows_in(page)] == sorted(slugs)
    assert page.evaluate("location.hash") == "#sort=name"
    page.click("th[data-key=failing] button")
    assert states[rows_in(page)[0]["repo"].split()[0]] == "failing notebook"
    assert page.get_attribute("th[data-key=failing]", "aria-sort") == "descending"
    page.close()

    phone = open_page(browser, out / "index.html", width=390)
    shot = tmp_path / "dashboard-phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    print(f"dashboard phone screenshot: {shot}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.evaluate("getComputedStyle(document.querySelector('thead')).display") == "none"
    label = phone.evaluate(
        "getComputedStyle(document.querySelector('td.template'), '::before').content"
    )
    assert label == '"template: "'
    assert phone.blocked == []
    phone.close()


def test_dashboard_shows_hostile_values_as_text(tmp_path, browser):
    """Issue titles, repo names and URLs come from GitHub's answers: markup in them is shown
    as text, a `javascript:` link is dropped, and the page's policy allows no network."""
    hostile = (
        '<img src=x onerror="document.title=\'owned\'"><script>document.title="owned"</script>'
    )
    row = {
        "repo": "/fleet/x",
        "version": "v1.0.0",
        "latest": "v1.0.0",
        "framework": "pytorch",
        "behind": False,
        "error": "",
        "state": "current",
        "behind_by": 0,
        "schedules": ["17 5 * * 1"],
        "reports_error": "",
        "notebook_reports": [
            {
                "run_id": 1,
                "created_at": "2026-12-01T05:17:00Z",
                "cases": [
                    {"file": f"{hostile}.ipynb", "name": "n", "outcome": "passed", "seconds": 1.0}
                ],
                "warnings": {f"{hostile}.ipynb": [f"UserWarning: {hostile}"]},
            }
        ],
        "github": GitHubHealth(
            repo="ada/x",
            notebooks_workflow="active",
            last_scheduled_run={
                "conclusion": "success",
                "status": "completed",
                "created_at": "2026-12-01T05:17:00Z",
                "html_url": "javascript:document.title='owned'",
            },
            tracking_issues=[
                {
                    "number": 2,
                    "title": hostile,
                    "label": "notebooks-failing",
                    "html_url": "https://evil.example/<x>",
                }
            ],
        ).to_json(),
    }
    page_file = tmp_path / "index.html"
    page_file.write_text(render([row], now=datetime(2026, 12, 3, tzinfo=UTC)))
    page = open_page(browser, page_file)
    assert page.title().startswith("tutorkit fleet")
    policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-")
    assert (
        page.evaluate("document.querySelectorAll('img, #fleet script, #radar script').length") == 0
    )
    assert hostile in page.inner_text("td.issues")
    assert hostile in page.inner_text("#radar")
    assert page.evaluate("Array.from(document.links).map(a => a.href)") == [
        "https://evil.example/%3Cx%3E"
    ]
    assert page.blocked == []
    page.close()


def zip_of(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_repos_and_reports_github_cannot_give_are_rows_that_say_why(
    make_repo, tk, tmp_path, monkeypatch, browser
):
    """A repo the API does not know, and notebook reports that are no zip, a zip bomb, or
    junit with entities: each is its own row's one sentence; the other rows are whole."""
    slugs = make_fleet(make_repo, 4)
    git(make_repo("gone"), "remote", "add", "origin", "https://github.com/ada/gone.git")
    repos, _ = mixed_fleet(slugs)
    bad = {
        slugs[1]: b"PK\x03\x04 not a zip",
        slugs[2]: zip_of({"_temp/junit.xml": bytes(17 * 2**20)}),
        slugs[3]: zip_of(
            {"_temp/junit.xml": b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "x">]><t>&a;</t>'}
        ),
    }
    for slug, data in bad.items():
        zips = repos[slug]["zips"]
        newest = max(zips)
        zips[newest] = data
    out = tmp_path / "site"
    with FakeGitHub(repos) as server:
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GH_TOKEN", TOKEN)
        code, printed, err = tk("status", make_repo.fleet, "--github", "--html", out, "--json")
    assert code == 1, err
    errors = {
        row["repo"].rsplit("/", 1)[-1]: row.get("reports_error", "") for row in json.loads(printed)
    }
    assert errors["tutorial-00"] == ""
    assert "not a readable zip" in errors["tutorial-01"]
    assert "too many or too large files" in errors["tutorial-02"]
    assert "declares a DOCTYPE or entities" in errors["tutorial-03"]
    page = open_page(browser, out / "index.html", sort="name")
    shown = {row["repo"].split()[0]: row for row in rows_in(page)}
    assert "GitHub has no such repository" in shown["ada/gone"]["attention"]
    assert shown["ada/gone"]["row_class"] == "attention"
    assert "not a readable zip" in shown[slugs[1]]["attention"]
    assert "all well" in shown[slugs[0]]["attention"]
    page.close()


@pytest.mark.slow  # two fresh interpreters that each start a browser check
def test_the_browser_check_fails_under_ci_when_chromium_is_missing(tmp_path):
    """CI=true: no Chromium is a failure (.ci/run installs it); elsewhere the tests skip."""
    import subprocess
    import sys

    test = f"{Path(__file__)}::test_dashboard_shows_hostile_values_as_text"
    for ci, expected in (("true", "1 error"), ("", "1 skipped")):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env={**os.environ, "PATH": str(Path(sys.executable).parent), "CI": ci},
        )
        assert expected in done.stdout, done.stdout[-2000:]
        assert "no chromium on PATH" in done.stdout
