"""``tutorkit new``: a repo from the embedded template, recorded as the canonical git URL."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from tutorkit.errors import TutorkitError, UsageError, one_line
from tutorkit.git import commit_everything, git, run_git
from tutorkit.repos import ANSWERS_FILE, write_answers_source
from tutorkit.template import current_tag, embedded_template_dir, template_url


def parse_data(pairs: list[str], template_dir: Path) -> dict[str, str]:
    """``key=value`` answers, refusing keys the template does not ask about."""
    if not pairs:
        return {}
    import yaml

    questions = {
        k
        for k in yaml.safe_load((template_dir / "copier.yml").read_text(encoding="utf-8"))
        if not k.startswith("_")
    }
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f'The answer "{pair}" is not of the form key=value.')
        if key not in questions:
            raise UsageError(
                f'The template asks no question "{key}": use one of {", ".join(sorted(questions))}.'
            )
        data[key] = value
    return data


def github_user() -> str | None:
    """The author's GitHub name: ``git config github.user``, else ``gh api user`` (when gh is
    installed and logged in); None when neither knows a valid one. Never fails."""
    name = run_git(["config", "--get", "github.user"]).stdout.strip()
    if not name and shutil.which("gh"):
        try:
            done = subprocess.run(
                ["gh", "api", "user", "--jq", ".login"],
                capture_output=True,
                text=True,
                timeout=10,
                env={**os.environ, "GH_PROMPT_DISABLED": "1"},
            )
            name = done.stdout.strip() if done.returncode == 0 else ""
        except (OSError, subprocess.TimeoutExpired):
            name = ""
    from tutorkit.github import OWNER

    return name if OWNER.match(name) else None


def init_git_repo(repo: Path, branch: str, tag: str) -> None:
    """Make ``repo`` a git repo with one commit holding every generated file."""
    git(repo, "init", "--quiet", f"--initial-branch={branch}")
    commit_everything(repo, f"Create from tutorkit {tag}")


def _unversioned(template_dir: Path, scratch: Path) -> Path:
    """The template as a plain folder.

    In a source checkout the template is a git repo's root, which Copier would clone at HEAD
    with uncommitted changes on top; a plain copy renders what this install ships, faster.
    """
    if not (template_dir / ".git").exists():
        return template_dir
    scratch.mkdir()
    shutil.copy2(template_dir / "copier.yml", scratch / "copier.yml")
    shutil.copytree(template_dir / "templates", scratch / "templates")
    return scratch


def _existing_ancestor(target: Path) -> Path:
    """The nearest folder above ``target`` that exists, once it is sure ``target`` can be made
    there: not under a file, and in a folder this user may write to."""
    ancestor = next(p for p in target.parents if p.exists() or p == p.parent)
    if not ancestor.is_dir():
        raise TutorkitError(
            f"{target} cannot be created: {ancestor} is a file, not a folder; choose another path."
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise TutorkitError(
            f"{target} cannot be created: {ancestor} is not writable; "
            "choose a folder you can write to."
        )
    return ancestor


def create(
    dest: str,
    *,
    framework: str | None = None,
    defaults: bool = False,
    data_pairs: list[str] = (),
    url_override: str | None = None,
) -> Path:
    """Render the embedded template into ``dest``; on any failure ``dest`` is left as it was."""
    target = Path(dest).expanduser().absolute()
    try:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise TutorkitError(f"{target} already exists and is not empty: choose a new folder.")
        ancestor = _existing_ancestor(target)
    except OSError as exc:
        raise _cannot_create(target, exc) from exc
    template_dir = embedded_template_dir()
    data = parse_data(list(data_pairs), template_dir)
    if framework:
        data["framework"] = framework
    # Offered as the default answer (asked, or taken with --defaults); an explicit answer wins.
    owner = None if "github_owner" in data else github_user()
    url, tag = template_url(url_override), current_tag()

    import copier
    from copier.errors import CopierError

    # Render next to the destination (same filesystem, so the final move is a rename).
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tutorkit-", dir=ancestor))
    except OSError as exc:
        raise _cannot_create(target, exc) from exc
    try:
        work = staging / "repo"
        source = _unversioned(template_dir, staging / "template")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                worker = copier.run_copy(
                    str(source),
                    work,
                    data=data,
                    user_defaults={"github_owner": owner} if owner else {},
                    defaults=defaults,
                    quiet=True,
                    unsafe=False,
                )
        except (ValueError, TypeError) as exc:  # an answer the template's validators refuse
            message = one_line(exc).rstrip(".")
            raise UsageError(f"{message}; nothing was written.") from exc
        except CopierError as exc:
            message = one_line(exc).rstrip(".")
            raise TutorkitError(f"{message}; nothing was written.") from exc
        write_answers_source(work / ANSWERS_FILE, url, tag)
        branch = str(worker.answers.combined.get("default_branch") or "main")
        init_git_repo(work, branch, tag)
        made: list[Path] = []  # the folders above target that this run creates
        try:
            made = [p for p in reversed(target.parents) if not p.exists()]
            for folder in made:
                folder.mkdir()
            if target.exists():
                target.rmdir()
            shutil.move(str(work), str(target))
        except OSError as exc:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise _cannot_create(target, exc) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _cannot_create(target: Path, exc: OSError) -> TutorkitError:
    """An operating-system refusal as one sentence, without Python's errno prefix."""
    why = (exc.strerror or one_line(exc)).lower()
    return TutorkitError(
        f"{target} cannot be created ({why}): choose a folder you can write to; "
        "nothing was written."
    )
