"""``tutorkit status``: each repo's template version against the latest tag, one lookup per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tutorkit.plan import State, choose_targets, read_plans
from tutorkit.template import tags_of_templates


@dataclass
class RepoStatus:
    repo: str
    version: str = ""
    latest: str = ""
    framework: str = ""
    behind: bool | None = None
    error: str = ""

    @property
    def state(self) -> str:
        if self.error:
            return f"error: {self.error}"
        return "behind" if self.behind else "current"

    def to_json(self) -> dict:
        return {**asdict(self), "state": self.state}


def fleet_status(repos: list[Path]) -> list[RepoStatus]:
    """The status of every repo; each distinct template URL is asked for its tags once."""
    plans = read_plans(repos)
    choose_targets(plans, tags_of_templates)
    return [
        RepoStatus(
            repo=str(plan.repo),
            version=plan.version,
            latest=plan.target,
            framework=plan.answers.framework if plan.answers else "",
            behind=plan.state is State.BEHIND if plan.target else None,
            error=plan.error,
        )
        for plan in plans
    ]
