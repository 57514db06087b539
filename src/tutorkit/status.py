"""``tutorkit status``: each repo's template version against the latest tag, one lookup per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutorkit.git import run_git
from tutorkit.plan import RepoPlan, State, choose_targets, read_plans
from tutorkit.repos import ANSWERS_FILE
from tutorkit.template import tags_of_templates
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
    repos: list[Path], github: Client | None = None, fix: bool = False
) -> list[RepoStatus]:
    """The status of every repo, from one plan each; each template URL is asked for its tags once.

    With a GitHub ``Client``, each repo also gets what GitHub says about it (``fix``:
    re-enable the workflows disabled for inactivity).
    """
    plans = read_plans(repos)
    tags: dict = {}

    def lookup(urls: set[str]) -> dict:
        tags.update(tags_of_templates(urls))
        return tags

    choose_targets(plans, lookup)
    statuses = [
        RepoStatus(
            repo=str(plan.repo),
            version=plan.version,
            latest=plan.target,
            framework=plan.answers.framework if plan.answers else "",
            behind=plan.state is State.BEHIND if plan.target else None,
            error=plan.error or _not_current(plan, tags),
        )
        for plan in plans
    ]
    if github is not None:
        from tutorkit.github import fleet_health

        targets = [(plan.repo, plan.answers.data if plan.answers else {}) for plan in plans]
        for status, health in zip(statuses, fleet_health(github, targets, fix), strict=True):
            status.github = health
    return statuses
