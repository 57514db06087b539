"""``tutorkit new``: a repo from the embedded template, recorded as the canonical git URL."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from tutorkit.errors import TutorkitError, UsageError, one_line
from tutorkit.git import commit_everything, git
from tutorkit.repos import ANSWERS_FILE
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


def rewrite_answers_source(answers_file: Path, url: str, tag: str) -> None:
    """Make the answers file name the canonical git URL and tag, keeping every other byte."""
    import yaml

    text = answers_file.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not re.match(r"_(src_path|commit)\s*:", line)]
    if len(lines) - len(kept) < 1:
        raise TutorkitError(f"The template wrote no _src_path into {ANSWERS_FILE}: report a bug.")
    first = next(i for i, line in enumerate(lines) if re.match(r"_(src_path|commit)\s*:", line))
    header = yaml.safe_dump({"_commit": tag, "_src_path": url}, sort_keys=False, width=10**6)
    kept[first:first] = [header]
    answers_file.write_text("".join(kept), encoding="utf-8")


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
        rewrite_answers_source(work / ANSWERS_FILE, url, tag)
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
