"""``tutorkit status``: each repo's template version against the latest tag, one lookup per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.repos import read_answers
from tutorkit.template import latest_tag, parse_version, tags_of_templates


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
    statuses: list[RepoStatus] = []
    urls: dict[int, str] = {}
    for index, repo in enumerate(repos):
        status = RepoStatus(repo=str(repo))
        try:
            answers = read_answers(repo)
        except (TutorkitError, OSError) as exc:
            status.error = str(exc)
        else:
            status.version, status.framework = answers.commit, answers.framework
            urls[index] = answers.src_path
        statuses.append(status)

    tags = tags_of_templates(set(urls.values()))
    for index, url in urls.items():
        status = statuses[index]
        found = tags[url]
        newest = None if isinstance(found, TutorkitError) else latest_tag(found)
        if newest is None:
            status.error = (
                str(found)
                if isinstance(found, TutorkitError)
                else "the template has no version tags"
            )
            continue
        status.latest = newest
        status.behind = parse_version(status.version) < parse_version(newest)
    return statuses
