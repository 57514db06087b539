"""No update conflict is left in the repo (TK120), whatever kind of file holds it."""

from __future__ import annotations

import json

from tutorkit.checks.facts import MARKER, Facts
from tutorkit.checks.rule import Rule
from tutorkit.untrusted import UntrustedInput


def _notebook_markers(rel: str, text: str) -> list[str]:
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return [f"{rel} is not valid JSON: a text merge left <<<<<<< lines in it"]
    marked = [
        str(i + 1)
        for i, cell in enumerate(cells)
        if isinstance(cell, dict) and MARKER.search("".join(cell.get("source", "")))
    ]
    return [f"{rel} has conflicts in cells {', '.join(marked)}"] if marked else []


def _markers(facts: Facts, rel: str) -> list[str]:
    """The conflicts one tracked file holds (none for a link, or a file that cannot be read)."""
    path = facts.repo / rel
    if path.is_symlink() or not path.is_file():
        return []
    try:
        text = facts.text(rel)
    except UntrustedInput:
        return []
    if "<<<<<<<" not in text:
        return []
    if rel.endswith(".ipynb"):
        return _notebook_markers(rel, text)
    return [f"{rel} holds <<<<<<< conflict markers"] if MARKER.search(text) else []


class NoUpdateConflicts(Rule):
    """No update conflict is left: no unmerged file, no conflict markers in a file or a cell."""

    id = "TK120"
    fix = (
        "Resolve each conflict as docs/conflicts.md shows, then `git add` the file. A notebook "
        "merged by `tutorkit update` opens in Jupyter: edit the marked cell. One a text merge "
        "(plain `copier update`) broke: `git show :1:PATH > base.ipynb`, `:2:` > ours.ipynb, "
        "`:3:` > theirs.ipynb, then `nbmerge base.ipynb ours.ipynb theirs.ipynb --out PATH`."
    )

    def problems(self, facts: Facts) -> list[str]:
        found = [f"{path} is unmerged (git ls-files -u)" for path in facts.unmerged]
        for rel in facts.tracked:
            if rel not in facts.unmerged:
                found += _markers(facts, rel)
        return found
