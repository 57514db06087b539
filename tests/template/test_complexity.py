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


def test_every_rendered_repos_functions(variants):
    found = set()
    for repo in variants.values():
        found.update(too_complex(sorted(repo.rglob("*.py")), repo))
    assert sorted(found) == []
