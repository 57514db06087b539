"""``tutorkit deps``: a pinned requirements.txt for a tutorial repo that has none.

The distributions are the ones the notebooks (code cells) and scripts import: each top-level
import that is neither the standard library nor the repo's own module is mapped to its
distribution through pipreqs' maintained mapping (``sklearn`` -> ``scikit-learn``, ``cv2`` ->
``opencv-python``, ``PIL`` -> ``Pillow``; a name it does not list is its own distribution).
They are pinned with ``uv pip compile --exclude-newer DATE``: versions as they stood on the
index at the repo's last commit date (or ``--date``), so the proposal is what the tutorial ran
with, not today's releases. torch resolves against PyTorch's CPU index (CPU wheels, as the
template's starter pins them). The proposal is printed; ``--write`` saves it as a NEW
``requirements.txt`` and never replaces the author's.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError, UsageError, one_line
from tutorkit.git import git
from tutorkit.repos import ANSWERS_FILE, code_of, repo_files
from tutorkit.untrusted import UntrustedInput, inside, load_yaml, repo_file

REQUIREMENTS = "requirements.txt"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Proposal:
    """What `tutorkit deps` found and proposes for one repo."""

    repo: str
    imports: dict[str, list[str]] = field(default_factory=dict)  # module -> files importing it
    distributions: list[str] = field(default_factory=list)
    date: str = ""  # the --exclude-newer cut-off
    date_source: str = ""
    python: str = ""
    requirements: str = ""  # the pinned file's text
    written: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def _top_level_imports(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _local_modules(repo: Path, files: list[Path]) -> set[str]:
    """Names the repo provides itself: its scripts and its packages (folders with code)."""
    return {p.stem for p in files if p.suffix == ".py"} | {
        part for p in files if p.suffix == ".py" for part in p.relative_to(repo).parts[:-1]
    }


def imported_modules(repo: Path) -> dict[str, list[str]]:
    """Third-party module -> the files that import it."""
    files = [p for p in repo_files(repo, ".ipynb") + repo_files(repo, ".py") if inside(repo, p)]
    local = _local_modules(repo, files) | set(sys.stdlib_module_names) | {"__future__"}
    found: dict[str, list[str]] = {}
    for path in files:
        modules = _top_level_imports(code_of(repo, path))  # "": nothing to learn from it
        for module in sorted(modules - local):
            found.setdefault(module, []).append(path.relative_to(repo).as_posix())
    return dict(sorted(found.items()))


NEEDS_EXTRA = (
    "tutorkit deps needs uv and pipreqs' mapping, which this install lacks: "
    "pip install 'tutorkit[deps]' and retry."
)


def distributions(modules: list[str]) -> list[str]:
    """The distributions that provide ``modules`` (pipreqs' mapping; unlisted: same name)."""
    try:
        from pipreqs.pipreqs import get_pkg_names
    except ImportError:
        raise TutorkitError(NEEDS_EXTRA) from None

    names = {re.sub(r"[-_.]+", "-", name).lower() for name in get_pkg_names(list(modules))}
    return sorted(names)


def _required(repo: Path) -> set[str]:
    """The distributions the repo's own requirements.txt names (pinned or not), and the
    requirements files its ``-r`` lines name (those it cannot read, ``check`` reports)."""
    from tutorkit.checks.dependencies import parse_requirement, requirements_read

    if not (repo / REQUIREMENTS).is_file():
        return set()

    def read(rel: str) -> str:
        return repo_file(repo, repo / rel).decode("utf-8", errors="replace")

    lines, _unread = requirements_read(read, REQUIREMENTS)
    return {req[0] for req in (parse_requirement(line) for _name, line in lines) if req}


def _cut_off(repo: Path, date: str | None) -> tuple[str, str]:
    if date:
        if not DATE.match(date):
            raise UsageError(f"--date {date!r} is not a date: give it as YYYY-MM-DD.")
        return date, "--date"
    last = git(repo, "log", "-1", "--format=%cs", check=False).strip()
    if not DATE.match(last):
        raise TutorkitError(f"{repo} has no commit to date the versions by: commit first.")
    return last, "the last commit's date"


def _python(repo: Path) -> str:
    try:
        answers = load_yaml(repo_file(repo, repo / ANSWERS_FILE), ANSWERS_FILE) or {}
    except (UntrustedInput, OSError):
        answers = {}
    version = answers.get("python_version") if isinstance(answers, dict) else None
    return str(version) if re.fullmatch(r"3\.\d+", str(version)) else "3.11"


def compile_pins(names: list[str], date: str, python: str) -> str:
    """``names`` pinned with their dependencies as of ``date`` (uv pip compile)."""
    try:
        from uv import find_uv_bin
    except ImportError:
        raise TutorkitError(NEEDS_EXTRA) from None
    command = [find_uv_bin(), "pip", "compile", "-", "--quiet", "--no-header"]
    command += ["--exclude-newer", date, "--python-version", python]
    if "torch" in names:
        command += ["--extra-index-url", TORCH_CPU_INDEX, "--index-strategy", "unsafe-best-match"]
        command += ["--emit-index-url"]
    done = subprocess.run(
        command, input="\n".join(names) + "\n", capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise TutorkitError(
            f"uv could not pin {', '.join(names)} as of {date}: "
            f"{one_line(done.stderr)[-300:]}; nothing was written."
        )
    return done.stdout


def propose(repo_arg: str, date: str | None = None, write: bool = False) -> Proposal:
    """The pinned requirements of a repo's imports (and, with ``write``, a new requirements.txt)."""
    repo = Path(repo_arg).expanduser().resolve()
    if not (repo / ".git").exists():
        raise TutorkitError(f"{repo} is not the top folder of a git repository.")
    target = repo / REQUIREMENTS
    if write and (target.exists() or target.is_symlink()):
        raise TutorkitError(
            f"{repo} already has {REQUIREMENTS}, which tutorkit never replaces: run without "
            "--write to see the proposal, and merge it yourself."
        )
    found = Proposal(str(repo), imports=imported_modules(repo))
    if not found.imports and not _required(repo):
        raise TutorkitError(f"The notebooks and scripts of {repo} import no third-party module.")
    found.distributions = sorted(set(distributions(list(found.imports))) | _required(repo))
    found.date, found.date_source = _cut_off(repo, date)
    found.python = _python(repo)
    pins = compile_pins(found.distributions, found.date, found.python)
    found.requirements = (
        f"# Pinned by `tutorkit deps` from the imports of the notebooks and scripts, as the\n"
        f"# package index stood on {found.date} ({found.date_source}), for Python "
        f"{found.python}:\n# uv pip compile --exclude-newer {found.date}\n{pins}"
    )
    if write:
        from tutorkit.land import add_file

        add_file(repo, REQUIREMENTS, found.requirements.encode("utf-8"))  # never a replacement
        found.written = True
    return found
