"""``tutorkit new``: a repo from the embedded template, recorded as the canonical git URL.

The repo is rendered and committed in a staging folder beside DEST and moved into place in one
rename (``land.place_new_repo``): a failure or a kill leaves DEST as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line
from tutorkit.git import commit_everything, git, run_git
from tutorkit.land import place_new_repo, staging_folder
from tutorkit.mirror import checked_template_url
from tutorkit.render import parse_data, render, unversioned
from tutorkit.repos import ANSWERS_FILE, write_answers_source
from tutorkit.template import current_tag, embedded_template_dir


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


def offered_defaults(target: Path, given: dict[str, str]) -> dict[str, str]:
    """Defaults this machine knows better than the template: the GitHub owner (``github_user``),
    the repository's name (DEST's folder name) and the author (git's ``user.name``)."""
    from tutorkit.github import NAME

    offered = {}
    if "github_owner" not in given and (owner := github_user()):
        offered["github_owner"] = owner
    if "repo_name" not in given and NAME.match(target.name) and target.name not in (".", ".."):
        offered["repo_name"] = target.name
    author = run_git(["config", "--get", "user.name"]).stdout.strip()
    if "author_name" not in given and author and author.isprintable():
        offered["author_name"] = author
    return offered


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
    url, tag = checked_template_url(url_override), current_tag()
    template_dir = embedded_template_dir()
    data = parse_data(list(data_pairs), template_dir)
    if framework:
        data["framework"] = framework
    # Offered as default answers (asked, or taken with --defaults); an explicit answer wins.
    offered = offered_defaults(target, data)
    try:
        with staging_folder(ancestor, target.name) as staging:
            work = staging / "repo"
            source = unversioned(template_dir, staging / "template")
            try:
                worker = render(source, work, data, defaults=defaults, user_defaults=offered)
            except TutorkitError as exc:
                raise type(exc)(f"{exc}; nothing was written.") from exc
            write_answers_source(work / ANSWERS_FILE, url, tag)
            branch = str(worker.answers.combined.get("default_branch") or "main")
            init_git_repo(work, branch, tag)
            place_new_repo(work, target)
    except OSError as exc:
        raise _cannot_create(target, exc) from exc
    return target


def _cannot_create(target: Path, exc: OSError) -> TutorkitError:
    """An operating-system refusal as one sentence, without Python's errno prefix."""
    why = (exc.strerror or one_line(exc)).lower()
    return TutorkitError(
        f"{target} cannot be created ({why}): choose a folder you can write to; "
        "nothing was written."
    )
