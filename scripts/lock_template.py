"""Write the template's shipped locks (templates/locks/), one per dependency set, as of a date.

A template renders offline, so it cannot resolve a lock when a repo is created: it ships the lock
of each dependency set it can produce (framework x task x tracking, Python 3.11), computed here
when the template is released. Each is exactly what `tutorkit lock --date DATE` gives in a repo
rendered with those answers (tests/template/test_lock.py checks it, resolving again as of the
recorded date). Run it when a pin in templates/dependencies.jinja changes:

    python scripts/lock_template.py --date YYYY-MM-DD [--wheels DIR]

--wheels DIR: take torch's CPU wheel from DIR (pip's find-links folder on a machine that cannot
reach PyTorch's CPU index); the lock is the same, the hashes being the files'.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import copier

from tutorkit.lock import constraints_of, lock_tools, resolve

CHECKOUT = Path(__file__).resolve().parents[1]
LOCKS = CHECKOUT / "templates" / "locks"
TOOLS = "tools.txt"
# What the generated workflows install besides the tutorial: the hygiene job's pre-commit and the
# canary's bisection's uv (tutorkit's `deps` pin); rendered as .github/requirements-tools.lock.
TOOL_NAMES = ("pre-commit", "uv")
# What runs an adopted repo's notebooks (.github/scripts/notebooks.py), besides its own
# requirements: rendered as .github/requirements-runner.lock in the infrastructure layout.
RUNNER = "runner.txt"
RUNNER_NAMES = ("pytest", "papermill", "ipykernel")
# What the workflows that run tutorkit install (template-update, the Colab gate, the canary's
# refresh, the fleet's): tutorkit's own dependencies and its `deps` extra (uv), as this
# release's pyproject.toml states them; tutorkit itself then comes from its repository at the
# repo's release tag, with --no-deps (pip cannot hash a git checkout).
TUTORKIT = "tutorkit.txt"
# The dependency sets the template ships a lock for: every set on Python 3.11 (tensorflow has
# no text-classification member), and TensorFlow's on 3.12 and 3.13. PyTorch's on 3.12 and 3.13
# need PyTorch's CPU index (torch==...+cpu for cp312/cp313), which the release machine must reach.
SETS = [
    {"framework": framework, "task": task, "tracking": tracking, "python_version": python}
    for framework, task, pythons in (
        ("pytorch", "image-classification", ["3.11"]),
        ("pytorch", "text-classification", ["3.11"]),
        ("tensorflow", "image-classification", ["3.11", "3.12", "3.13"]),
    )
    for python in pythons
    for tracking in ("none", "mlflow")
]


def tutorkit_requirements() -> str:
    """tutorkit's dependencies and its `deps` extra, as pyproject.toml states them."""
    project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["deps"]]
    return "".join(f"{line}\n" for line in lines)


def tools(names: tuple[str, ...]) -> str:
    """The pins of ``names``, as templates/dependencies.jinja's dev list (or, for uv,
    tutorkit's `deps` extra) has them."""
    text = (CHECKOUT / "templates" / "dependencies.jinja").read_text(encoding="utf-8")
    pins = dict(re.findall(r'\("([a-z0-9-]+)", "([^"]+)", ""\)', text))
    pins |= dict(re.findall(r"^([a-z0-9-]+)==(\S+)$", tutorkit_requirements(), re.MULTILINE))
    return "".join(f"{name}=={pins[name]}\n" for name in names)


def lock_name(answers: dict) -> str:
    """templates/dependencies.jinja's `lock_file`, for these answers."""
    parts = (answers["framework"], answers["task"], answers["tracking"])
    return "-".join(parts) + f"-py{answers['python_version']}.txt"


def constraints_name(answers: dict) -> str:
    """The shipped constraints.txt of a set (the lock's versions, unhashed, platform-guarded)."""
    return lock_name(answers).removesuffix(".txt") + ".constraints.txt"


def template_copy(dest: Path) -> Path:
    """This checkout's template as a git repo (Copier renders a template's committed state)."""
    dest.mkdir()
    shutil.copy2(CHECKOUT / "copier.yml", dest / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", dest / "templates")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "template"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=dest, check=True
        )
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--wheels", metavar="DIR")
    args = parser.parse_args(argv)
    names = [*map(lock_name, SETS), *map(constraints_name, SETS), TOOLS, RUNNER, TUTORKIT]
    for name in names:  # the template includes them: a new one starts from an empty file
        (LOCKS / name).touch()
    with tempfile.TemporaryDirectory() as scratch:
        template = template_copy(Path(scratch) / "template")
        for answers in SETS:
            repo = Path(scratch) / lock_name(answers).removesuffix(".txt")
            copier.run_copy(
                str(template),
                repo,
                data=answers,
                defaults=True,
                quiet=True,
                vcs_ref="HEAD",
            )
            text = resolve(repo, args.date, args.wheels)
            (LOCKS / lock_name(answers)).write_text(text, encoding="utf-8")
            constraints = constraints_of(text, answers["python_version"])
            (LOCKS / constraints_name(answers)).write_text(constraints, encoding="utf-8")
            print(
                f"{lock_name(answers)}: {constraints.count(chr(10)) - 4} packages", file=sys.stderr
            )
    command = f"python scripts/lock_template.py --date {args.date}"
    for name, requirements in (
        (TOOLS, tools(TOOL_NAMES)),
        (RUNNER, tools(RUNNER_NAMES)),
        (TUTORKIT, tutorkit_requirements()),
    ):
        (LOCKS / name).write_text(lock_tools(requirements, args.date, command), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
