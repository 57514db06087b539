"""One plan per repo, shared by ``tutorkit status`` and ``tutorkit update``.

Each repo's answers file is read once; each distinct template is asked for its tags once; from
those two facts a ``RepoPlan`` says where the repo is, where it would go and why it cannot.
``status`` prints plans, ``update`` carries them out, so the two agree by construction.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.land import interrupted_landing, leftovers, recover_landing
from tutorkit.mirror import git_url
from tutorkit.repos import Answers, read_answers
from tutorkit.template import latest_tag, parse_version


class State(enum.Enum):
    """Where a repo stands against its template."""

    CURRENT = "current"  # at the target version
    BEHIND = "behind"  # an update would move it to the target
    AHEAD = "ahead"  # newer than the target (no downgrades)
    UNREADABLE = "unreadable"  # its answers file cannot be used
    NO_TARGET = "no target"  # its template cannot be reached or has no such version


TagLookup = Callable[[set[str]], dict[str, "list[str] | TutorkitError"]]


@dataclass
class RepoPlan:
    """One repo: its answers, the version it is at, the version it would go to, or why not."""

    repo: Path
    answers: Answers | None = None
    target: str = ""
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.answers.commit if self.answers else ""

    @property
    def state(self) -> State:
        if self.answers is None:
            return State.UNREADABLE
        if not self.target:
            return State.NO_TARGET
        current, target = parse_version(self.version), parse_version(self.target)
        if current == target:
            return State.CURRENT
        return State.BEHIND if current < target else State.AHEAD


def read_plans(repos: Iterable[Path], recover: bool = False) -> list[RepoPlan]:
    """A plan per repo with its answers read (once) and its template URL checked.

    With ``recover``, what a killed run left is cleared first: an update interrupted while it
    wrote files is undone (``land.recover``), so the plan starts from the repo as it was, and
    work folders are removed. Without it (``status``), such a repo is reported and left alone.
    """
    plans = []
    for repo in repos:
        plan = RepoPlan(repo)
        if recover and leftovers(repo):
            with contextlib.suppress(TutorkitError, OSError):
                plan.notes.append(recover_landing(repo))
        elif not recover and interrupted_landing(repo):
            plan.error = (
                "an update was killed while it wrote files: run `tutorkit update` on this "
                "repo to undo it"
            )
            plans.append(plan)
            continue
        try:
            answers = read_answers(repo)
            git_url(answers.src_path)
        except (TutorkitError, OSError) as exc:
            plan.error = str(exc)
        else:
            plan.answers = answers
        plans.append(plan)
    return plans


def choose_targets(plans: list[RepoPlan], lookup: TagLookup, to: str | None = None) -> None:
    """Set each readable plan's target: ``to`` when given, else the template's latest release.

    ``lookup`` is called once with every distinct template URL and returns, per URL, its tags
    or the error that kept them from being listed.
    """
    readable = [p for p in plans if p.answers is not None]
    tags_by_url = lookup({p.answers.src_path for p in readable}) if readable else {}
    for plan in readable:
        tags = tags_by_url.get(plan.answers.src_path, [])
        if isinstance(tags, TutorkitError):
            plan.error = str(tags)
        else:
            plan.target, plan.error = _target(tags, to)


def _target(tags: list[str], to: str | None) -> tuple[str, str]:
    """The tag to update to (``to``, else the latest release) and why there is none."""
    if to is None:
        latest = latest_tag(tags) or ""
        return latest, "" if latest else "the template has no version tags"
    wanted = parse_version(to)
    match = [t for t in tags if wanted is not None and parse_version(t) == wanted]
    return (match[0], "") if match else ("", f"the template has no tag {to}")
