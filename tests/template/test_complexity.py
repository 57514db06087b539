"""No function a reader cannot follow in one go: cyclomatic complexity at most 10.

Measured as radon measures it (every branch, loop, boolean operator and comprehension
condition counts; ruff's C90 counts fewer), over tutorkit's own code and over the Python of
every rendered variant of the template: the tutorial's package, its tests and the workflow
scripts under .github/scripts.
"""

from __future__ import annotations

from pathlib import Path

from support import CHECKOUT

MOST = 10


def too_complex(files: list[Path], root: Path) -> list[str]:
    from radon.complexity import cc_visit
    from radon.visitors import Function

    found = []
    for path in files:
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if isinstance(block, Function) and block.complexity > MOST:
                name = f"{block.classname}.{block.name}" if block.classname else block.name
                found.append(f"{path.relative_to(root)}:{block.lineno} {name} ({block.complexity})")
    return found


def test_tutorkits_own_functions():
    source = CHECKOUT / "src" / "tutorkit"
    assert too_complex(sorted(source.rglob("*.py")), CHECKOUT) == []


# Answers that bring in code the framework x Python variants do not render.
MEMBERS = [
    {"task": "text-classification", "tracking": "mlflow"},
    {"tracking": "mlflow"},
    {"tracking": "mlflow", "framework": "tensorflow"},
    {"layout": "infrastructure"},
    {"kind": "fleet"},
]


def test_every_rendered_repos_functions(variants, render, tmp_path):
    repos = [*variants.values()]
    repos += [render(tmp_path / f"member-{n}", **answers) for n, answers in enumerate(MEMBERS)]
    found = set()
    for repo in repos:
        found.update(too_complex(sorted(repo.rglob("*.py")), repo))
    assert sorted(found) == []
