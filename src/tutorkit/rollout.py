"""Waves: a template release goes to the first wave (canary), and to the rest only once every
canary repo has taken it (its template-update pull request's checks passed, or it is merged).

`tutorkit fleet rollout REGISTRY CLONES` reads where each repo stands (the rows of `tutorkit
status --github --json` for the clones that `tutorkit fleet clone` made) and starts the
template-update workflow (workflow_dispatch) of each repo whose turn it is and which has no
update pull request yet. Run again (the fleet repo's rollout workflow does, every few hours),
it moves on to the rest as soon as the canary is through. The dashboard shows the same stages
(`stage`, `waves_summary`), from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DONE = ("current", "update PR passing")


def slug_of(row: dict) -> str:
    return str((row.get("github") or {}).get("repo") or "").lower()


def stage(row: dict) -> str:
    """Where one repo is with the latest template release (from its status row)."""
    health = row.get("github") or {}
    if row.get("error") or health.get("error"):
        return "error"
    if not row.get("behind"):
        return "current"
    pull = health.get("update_pull_request")
    if not pull:
        return "behind"
    checks = pull["checks"]
    if checks["failing"]:
        return "update PR failing"
    return "update PR pending" if checks["pending"] or not checks["passed"] else "update PR passing"


@dataclass
class Rollout:
    """Each member's wave and stage; which repos to start now; whether the canary is through."""

    first: str
    rows: list[dict] = field(default_factory=list)  # repo, wave, stage
    start: list[str] = field(default_factory=list)  # slugs whose update to start now
    canary_through: bool = False

    @property
    def blocked(self) -> list[str]:
        """The first wave's repos that stop the rest (an update that fails, or cannot be read)."""
        return [
            r["repo"]
            for r in self.rows
            if r["wave"] == self.first and r["stage"] in ("update PR failing", "error")
        ]

    def to_json(self) -> dict:
        return {
            "first": self.first,
            "canary_through": self.canary_through,
            "start": self.start,
            "blocked": self.blocked,
            "repos": self.rows,
        }


def plan(rows: list[dict], waves: dict[str, str], first: str) -> Rollout:
    """The rollout for status ``rows`` and ``waves`` (lowercase owner/name -> wave)."""
    rollout = Rollout(first=first)
    for row in rows:
        slug = slug_of(row)
        if slug in waves:
            name = (row.get("github") or {}).get("repo", slug)
            rollout.rows.append({"repo": name, "wave": waves[slug], "stage": stage(row)})
    canary = [r for r in rollout.rows if r["wave"] == first]
    rollout.canary_through = bool(canary) and all(r["stage"] in DONE for r in canary)
    _start_or_wait(rollout)
    return rollout


def _start_or_wait(rollout: Rollout) -> None:
    """The repos behind start now when in the first wave, or when that wave is through; the
    others wait for it."""
    for row in rollout.rows:
        if row["stage"] != "behind":
            continue
        if row["wave"] == rollout.first or rollout.canary_through:
            rollout.start.append(row["repo"])
        else:
            row["stage"] = f"waiting for {rollout.first}"


def waves_summary(rows: list[dict]) -> list[dict]:
    """Per wave (the first one first): how many repos are at each stage."""
    summary: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = summary.setdefault(row["wave"], {})
        counts[row["stage"]] = counts.get(row["stage"], 0) + 1
    return [{"wave": wave, "stages": dict(sorted(c.items()))} for wave, c in summary.items()]
