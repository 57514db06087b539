"""``tutorkit status``: each repo's template version against the latest tag, one lookup per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutorkit.git import run_git
from tutorkit.mirror import tags_of_templates
from tutorkit.plan import RepoPlan, State, choose_targets, read_plans
from tutorkit.repos import ANSWERS_FILE
from tutorkit.template import parse_version
from tutorkit.untrusted import printable

if TYPE_CHECKING:
    from tutorkit.github import Client, GitHubHealth


@dataclass
class RepoStatus:
    repo: str
    version: str = ""
    latest: str = ""
    framework: str = ""
    behind: bool | None = None
    error: str = ""
    github: GitHubHealth | None = None  # with --github
    # With --html (the dashboard), and only then in the JSON: releases behind, the notebooks
    # workflow's cron schedules, the last notebook reports (tutorkit.github.notebook_history).
    behind_by: int | None = None
    schedules: list[str] | None = None
    notebook_reports: list[dict] | None = None
    reports_error: str = ""
    wave: str | None = None  # with --registry: the repo's wave in fleet.yml ("" when unlisted)

    @property
    def state(self) -> str:
        if self.error:
            return f"error: {self.error}"
        return "behind" if self.behind else "current"

    @property
    def needs_attention(self) -> bool:
        return bool(self.error or self.behind or (self.github and self.github.attention))

    def to_json(self) -> dict:
        data = {**asdict(self), "state": self.state}
        if self.github is None:
            del data["github"]
        else:
            data["github"] = self.github.to_json()
        if self.schedules is None:
            for key in ("behind_by", "schedules", "notebook_reports", "reports_error"):
                del data[key]
        if self.wave is None:
            del data["wave"]
        return data


def _not_current(plan: RepoPlan, tags: dict) -> str:
    """Why a repo that reads as current or behind is neither ("" when it is what it reads)."""
    if plan.answers is None:
        return ""
    known = tags.get(plan.answers.src_path)
    if isinstance(known, list) and plan.version not in known:
        return (
            f"its template has no tag {printable(plan.version)} (the _commit of "
            f"{ANSWERS_FILE}): record a release tag the template has, then update"
        )
    proc = run_git(["-C", str(plan.repo), "ls-files", "-u", "-z"])
    unmerged = sorted({e.split("\t", 1)[1] for e in proc.stdout.split("\0") if "\t" in e})
    if unmerged:
        shown = ", ".join(printable(p) for p in unmerged[:3])
        more = f" and {len(unmerged) - 3} more" if len(unmerged) > 3 else ""
        return (
            f"unmerged files ({shown}{more}): resolve the update's conflicts and `git add` "
            "them (tutorkit check shows them, TK120)"
        )
    return ""


def fleet_status(
    repos: list[Path], github: Client | None = None, fix: bool = False, history: bool = False
) -> list[RepoStatus]:
    """The status of every repo, from one plan each; each template URL is asked for its tags once.

    With a GitHub ``Client``, each repo also gets what GitHub says about it (``fix``:
    re-enable the workflows disabled for inactivity); with ``history`` too, what the dashboard
    adds (``dashboard_details``).
    """
    plans = read_plans(repos)
    tags_seen: dict = {}

    def lookup(urls: set[str]) -> dict:
        tags_seen.update(tags_of_templates(urls))
        return tags_seen

    choose_targets(plans, lookup)
    statuses = [
        RepoStatus(
            repo=str(plan.repo),
            version=plan.version,
            latest=plan.target,
            framework=plan.answers.framework if plan.answers else "",
            behind=plan.state is State.BEHIND if plan.target else None,
            error=plan.error or _not_current(plan, tags_seen),
        )
        for plan in plans
    ]
    if github is not None:
        from tutorkit.github import fleet_health

        targets = [(plan.repo, plan.answers.data if plan.answers else {}) for plan in plans]
        for status, health in zip(statuses, fleet_health(github, targets, fix), strict=True):
            status.github = health
        if history:
            dashboard_details(statuses, plans, tags_seen, github)
    return statuses


def releases_behind(version: str, latest: str, tags: list[str]) -> int | None:
    """How many releases (no pre-releases) lie after ``version`` up to ``latest``."""
    current, target = parse_version(version), parse_version(latest)
    if current is None or target is None:
        return None
    found = {v for t in tags if (v := parse_version(t)) is not None and not v.is_prerelease}
    return len([v for v in found if current < v <= target])


def notebook_schedules(repo: Path) -> list[str]:
    """The cron schedules of the repo's notebooks workflow (GitHub runs them in UTC)."""
    from tutorkit.github import NOTEBOOKS_WORKFLOW
    from tutorkit.untrusted import load_yaml, repo_file

    path = repo / NOTEBOOKS_WORKFLOW
    if not path.is_file():
        return []
    document = load_yaml(repo_file(repo, path), NOTEBOOKS_WORKFLOW)
    events = document.get("on", document.get(True)) if isinstance(document, dict) else None
    schedule = events.get("schedule") if isinstance(events, dict) else None
    return [
        str(entry["cron"])
        for entry in schedule or []
        if isinstance(entry, dict) and isinstance(entry.get("cron"), str)
    ]


def _reports(github: Client, status: RepoStatus) -> None:
    from tutorkit.errors import TutorkitError
    from tutorkit.github import StopAll, notebook_history

    status.notebook_reports = []
    if status.github is None or status.github.error:
        return
    try:
        status.notebook_reports = notebook_history(github, status.github.repo)
    except StopAll:
        raise
    except (TutorkitError, KeyError, TypeError, ValueError) as exc:
        status.reports_error = str(exc) or type(exc).__name__


def dashboard_details(statuses, plans, tags_by_url: dict, github: Client) -> None:
    """Per repo: releases behind, the notebooks workflow's schedules, the last notebook reports
    (several repos at a time); a repo's own failure to give one is its ``reports_error``."""
    from concurrent.futures import ThreadPoolExecutor

    from tutorkit.errors import TutorkitError
    from tutorkit.github import WORKERS

    for status, plan in zip(statuses, plans, strict=True):
        tags = tags_by_url.get(plan.answers.src_path) if plan.answers else None
        if isinstance(tags, list) and status.latest:
            status.behind_by = releases_behind(status.version, status.latest, tags)
        try:
            status.schedules = notebook_schedules(plan.repo)
        except (TutorkitError, OSError) as exc:
            status.schedules, status.reports_error = [], str(exc)
    with ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(statuses)))) as pool:
        list(pool.map(lambda status: _reports(github, status), statuses))
