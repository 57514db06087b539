"""``tutorkit status``: each repo's template version against the latest tag, one lookup per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutorkit.errors import TutorkitError
from tutorkit.repos import read_answers
from tutorkit.template import latest_tag, parse_version, tags_of_templates

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


def fleet_status(
    repos: list[Path], github: Client | None = None, fix: bool = False
) -> list[RepoStatus]:
    """The status of every repo; each distinct template URL is asked for its tags once.

    With a GitHub ``Client``, each repo also gets what GitHub says about it (``fix``:
    re-enable the workflows disabled for inactivity).
    """
    statuses: list[RepoStatus] = []
    urls: dict[int, str] = {}
    answers_of: dict[int, dict] = {}
    for index, repo in enumerate(repos):
        status = RepoStatus(repo=str(repo))
        try:
            answers = read_answers(repo)
        except (TutorkitError, OSError) as exc:
            status.error = str(exc)
        else:
            status.version, status.framework = answers.commit, answers.framework
            urls[index] = answers.src_path
            answers_of[index] = answers.data
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
    if github is not None:
        from tutorkit.github import fleet_health

        targets = [(Path(s.repo), answers_of.get(i, {})) for i, s in enumerate(statuses)]
        for status, health in zip(statuses, fleet_health(github, targets, fix), strict=True):
            status.github = health
    return statuses
