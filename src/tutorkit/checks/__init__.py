"""``tutorkit check``: repo-review style rules for a companion repo.

The facts about a repo are read once (``facts.Facts``, through ``tutorkit.untrusted``); each
rule is a small class whose docstring is its title, with an ID that links to ``docs/checks.md``,
the layouts it applies to, and a fix that works as written there; ``RULES`` is the one registry.
A file that cannot be read or parsed (conflict markers, a link out of the repo, a YAML alias
bomb) is a problem of the rule that reads it, never a traceback.

Modules: ``facts`` (what the rules read), ``rule`` (the base class), ``template_source``
(TK101, TK110), ``files`` (TK102, TK104-TK109), ``dependencies`` (TK103, TK111), ``conflicts``
(TK120), ``colab`` (TK112, with a Colab runtime's package list), ``run`` (TK201 and the
Python it runs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorkit.checks.colab import ColabInstalls, ColabRuntime
from tutorkit.checks.conflicts import NoUpdateConflicts
from tutorkit.checks.dependencies import DependenciesAgree, RequirementsPinned
from tutorkit.checks.facts import Facts, Skip
from tutorkit.checks.files import (
    CIWorkflow,
    ConfigsLoad,
    DemoTextReplaced,
    NotebookPolicy,
    NotebooksStripped,
    OwnerNamed,
    SeedsSet,
)
from tutorkit.checks.rule import DOCS_URL, Rule
from tutorkit.checks.run import Interpreter, NotebooksRun, notebook_interpreter
from tutorkit.checks.template_source import AnswersValid, SourceUpdatable, source_problem
from tutorkit.errors import TutorkitError
from tutorkit.git import is_git_root
from tutorkit.repos import ANSWERS_FILE
from tutorkit.untrusted import UntrustedInput, printable

__all__ = [
    "DOCS_URL",
    "STATIC_RULES",
    "CheckResult",
    "Interpreter",
    "NotebooksRun",
    "Rule",
    "checkable",
    "notebook_interpreter",
    "run_checks",
    "source_problem",
]

# The registry, in the order the table shows them; TK201 joins with --run.
STATIC_RULES: list[Rule] = [
    AnswersValid(),
    NotebooksStripped(),
    DependenciesAgree(),
    ConfigsLoad(),
    SeedsSet(),
    CIWorkflow(),
    DemoTextReplaced(),
    OwnerNamed(),
    NotebookPolicy(),
    SourceUpdatable(),
    RequirementsPinned(),
    NoUpdateConflicts(),
]


@dataclass
class CheckResult:
    id: str
    title: str
    result: str  # "pass", "fail", "warn" or "skip"
    problems: list[str] = field(default_factory=list)
    fix: str = ""
    url: str = ""
    interpreter: str = ""  # the Python a rule that runs code ran (TK201)
    notes: list[str] = field(default_factory=list)  # what it did not run, and why (TK201)

    def to_json(self) -> dict:
        data = asdict(self)
        for empty in ("interpreter", "notes"):
            if not data[empty]:
                del data[empty]
        return data


def checkable(repo: Path) -> None:
    """Refuse, in one sentence, a path that is not one companion repo's top folder."""
    shown = printable(repo)
    if not repo.is_dir():
        raise TutorkitError(f"{shown} is not a folder: give the path of a companion repo.")
    if not (repo / ANSWERS_FILE).exists():
        members = sorted(p.name for p in repo.iterdir() if (p / ANSWERS_FILE).is_file())
        if members:
            raise TutorkitError(
                f"{shown} is a fleet of {len(members)} companion repos, not one repo: check each "
                f"(for example `tutorkit check {printable(repo / members[0])}`), or see them all "
                f"with `tutorkit status {shown}`."
            )
    if not is_git_root(repo):
        raise TutorkitError(
            f"{shown} is not the top folder of a git repository: give a companion repo's top "
            "folder (tutorkit check reads what git tracks)."
        )


def _apply(rule: Rule, facts: Facts) -> CheckResult:
    try:
        problems, state = rule.problems(facts), None
    except Skip as skip:
        problems, state = [str(skip)], "skip"
    except (UntrustedInput, OSError) as exc:  # a file the rule needs cannot be read
        problems, state = [str(exc)], None
    state = state or (rule.severity if problems else "pass")
    ran = str(rule.python.path) if isinstance(rule, NotebooksRun) and rule.python else ""
    return CheckResult(
        rule.id,
        rule.title,
        state,
        [printable(p) for p in problems],
        rule.fix_for(facts.layout, problems),
        rule.url,
        printable(ran),
        [printable(note) for note in getattr(rule, "notes", [])],
    )


def run_checks(
    repo: Path,
    run_notebooks: bool = False,
    python: Interpreter | None = None,
    colab: ColabRuntime | None = None,
) -> list[CheckResult]:
    """Apply every rule that fits the repo's layout to ``repo`` (and run its notebooks when
    asked, with ``python`` or the environment ``notebook_interpreter`` finds; and TK112 against
    the ``colab`` runtime when given)."""
    checkable(repo)
    if run_notebooks and python is None:
        python = notebook_interpreter(repo)
    facts = Facts(repo)
    rules = STATIC_RULES + ([ColabInstalls(colab)] if colab else [])
    rules += [NotebooksRun(python)] if run_notebooks else []
    return [_apply(rule, facts) for rule in rules if rule.applies(facts.layout)]
