"""What a rule is: an ID, a title (its docstring), the layouts it applies to, a fix that works
as written on that layout, and ``problems`` (what is wrong; nothing when it passes)."""

from __future__ import annotations

import abc

from tutorkit.checks.facts import LAYOUTS, Facts
from tutorkit.template import docs_url

DOCS_URL = docs_url("checks/")  # docs/checks.md on the published site ($TUTORKIT_DOCS_URL)


class Rule(abc.ABC):
    id = ""
    fix = ""
    severity = "fail"  # a rule whose problems should not fail the check says "warn"
    layouts: tuple[str, ...] = LAYOUTS  # where the rule makes sense
    fixes: dict[str, str] = {}  # a layout whose fix differs from `fix`

    @property
    def title(self) -> str:
        return " ".join((self.__doc__ or "").split())

    @property
    def url(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}"

    def applies(self, layout: str) -> bool:
        """Whether the rule makes sense for ``layout`` ("" when unknown: every rule does)."""
        return not layout or layout in self.layouts

    def fix_for(self, layout: str, problems: list[str]) -> str:
        """The fix to show for ``problems`` on ``layout``."""
        return self.fixes.get(layout, self.fix)

    @abc.abstractmethod
    def problems(self, facts: Facts) -> list[str]:
        """What is wrong in the repo these ``facts`` describe (nothing: the rule passes)."""
