"""Rolling a template release into one repo or a fleet, in parallel, never losing an edit."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorkit.errors import TutorkitError, one_line
from tutorkit.git import commit_everything, git
from tutorkit.repos import ANSWERS_FILE, read_answers, refusal
from tutorkit.template import (
    latest_tag,
    parse_version,
    tags_of_templates,
)

UPDATED, UP_TO_DATE, CONFLICTS, REFUSED, FAILED = (
    "updated",
    "up to date",
    "conflicts",
    "refused",
    "failed",
)
CONFLICT_MARKER = "<<<<<<< "


@dataclass
class UpdateResult:
    repo: str
    result: str
    from_version: str = ""
    to_version: str = ""
    reason: str = ""
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept_deleted: list[str] = field(default_factory=list)
    branch: str = ""
    dry_run: bool = False

    @property
    def needs_attention(self) -> bool:
        return self.result in (CONFLICTS, REFUSED, FAILED)

    def to_json(self) -> dict:
        return {**asdict(self), "needs_attention": self.needs_attention}


@dataclass
class UpdatePlan:
    """One repo's job: where it is, which tag it goes to (or why it cannot)."""

    repo: str
    target: str = ""
    error: str = ""
    branch: str = ""
    dry_run: bool = False


def resolve_targets(repos: list[Path], to: str | None) -> dict[Path, tuple[str, str]]:
    """Map each repo to (target tag, error): one ``git ls-remote`` per distinct template URL."""
    urls: dict[Path, str] = {}
    for repo in repos:
        try:
            urls[repo] = read_answers(repo).src_path
        except (TutorkitError, OSError):
            pass  # the worker refuses it with the reason
    tags_by_url = tags_of_templates(set(urls.values()))
    wanted = parse_version(to) if to is not None else None
    targets: dict[Path, tuple[str, str]] = {}
    for repo in repos:
        tags = tags_by_url.get(urls.get(repo, ""), [])
        if isinstance(tags, TutorkitError):
            targets[repo] = ("", str(tags))
        elif to is not None:
            match = [t for t in tags if wanted is not None and parse_version(t) == wanted]
            targets[repo] = (match[0], "") if match else ("", f"the template has no tag {to}")
        else:
            latest = latest_tag(tags)
            targets[repo] = (latest, "") if latest else ("", "the template has no version tags")
    return targets


def unmerged_paths(workdir: Path) -> list[str]:
    """Files git holds as unmerged (``git ls-files -u``)."""
    lines = git(workdir, "ls-files", "-u", "-z").split("\0")
    return sorted({line.split("\t", 1)[1] for line in lines if "\t" in line})


def changed_paths(workdir: Path) -> list[str]:
    """Every path the update touched: modified, added, deleted or untracked."""
    entries = git(workdir, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    paths = []
    for entry in entries:
        if len(entry) > 3:
            paths.append(entry[3:])
    return sorted(set(paths))


def conflicted_paths(workdir: Path, changed: list[str]) -> list[str]:
    """Files the update could not merge: unmerged index entries, ``.rej`` files, inline markers."""
    found = set(unmerged_paths(workdir))
    for path in changed:
        if path.endswith(".rej"):
            found.add(path[: -len(".rej")])
            continue
        file = workdir / path
        if file.is_file():
            try:
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if any(line.startswith(CONFLICT_MARKER) for line in text.splitlines()):
                found.add(path)
    return sorted(found)


def _render(src: str, ref: str, answers: dict, dest: Path) -> None:
    import copier

    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    copier.run_copy(src, dest, data=data, vcs_ref=ref, defaults=True, quiet=True, overwrite=True)


def kept_deleted(workdir: Path, src: str, ref: str, answers: dict) -> list[str]:
    """Template files the user deleted and the update left deleted.

    Only repos whose history deletes files pay for rendering the template to confirm which of
    those files the template still produces.
    """
    log = git(workdir, "log", "--diff-filter=D", "--name-only", "--format=", "HEAD")
    candidates = {p for p in log.splitlines() if p and not (workdir / p).exists()}
    if not candidates:
        return []
    with tempfile.TemporaryDirectory(prefix="tutorkit-render-") as tmp:
        _render(src, ref, answers, Path(tmp) / "render")
        return sorted(p for p in candidates if (Path(tmp) / "render" / p).exists())


def _run_copier_update(workdir: Path, target: str) -> None:
    import copier

    copier.run_update(
        workdir,
        vcs_ref=target,
        defaults=True,
        overwrite=True,
        conflict="inline",
        quiet=True,
        skip_answered=True,
    )


def _copier_message(exc: BaseException) -> str:
    return (one_line(exc) or type(exc).__name__).rstrip(".")


def update_one(plan: UpdatePlan) -> UpdateResult:
    """Update one repo to ``plan.target``; every failure becomes a result, never an exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _update_one(plan)
    except Exception as exc:  # noqa: BLE001  (one repo's failure must not stop the fleet)
        return UpdateResult(plan.repo, FAILED, reason=_copier_message(exc), branch=plan.branch)


def _update_one(plan: UpdatePlan) -> UpdateResult:
    repo = Path(plan.repo)
    result = UpdateResult(repo=plan.repo, result=REFUSED, branch=plan.branch, dry_run=plan.dry_run)
    why = refusal(repo)
    if why:
        result.reason = why
        with contextlib.suppress(TutorkitError, OSError):
            result.from_version = read_answers(repo).commit
        return result
    answers = read_answers(repo)
    result.from_version = answers.commit
    if plan.error:
        result.result, result.reason = FAILED, plan.error
        return result
    result.to_version = plan.target
    current, target = parse_version(answers.commit), parse_version(plan.target)
    if current == target:
        result.result = UP_TO_DATE
        return result
    if current > target:
        result.reason = f"it is at {answers.commit}, newer than {plan.target} (no downgrades)"
        return result
    if plan.branch and git(repo, "branch", "--list", plan.branch).strip():
        result.reason = f"branch {plan.branch} already exists"
        return result
    with tempfile.TemporaryDirectory(prefix="tutorkit-update-") as tmp:
        workdir = repo
        if plan.dry_run:
            workdir = Path(tmp) / repo.name
            git(repo, "clone", "--quiet", "--shared", str(repo), str(workdir))
        elif plan.branch:
            workdir = Path(tmp) / repo.name
            git(repo, "worktree", "add", "--quiet", "-b", plan.branch, str(workdir), "HEAD")
        in_worktree = bool(plan.branch and not plan.dry_run)
        try:
            result = _update_in(workdir, repo, plan, answers.data, result)
        except BaseException:
            if in_worktree:  # no half-made branch left behind
                _remove_worktree(repo, workdir, delete_branch=plan.branch)
            raise
        if in_worktree:
            _remove_worktree(
                repo, workdir, delete_branch=plan.branch if result.result == FAILED else ""
            )
        return result


def _remove_worktree(repo: Path, workdir: Path, delete_branch: str = "") -> None:
    git(repo, "worktree", "remove", "--force", str(workdir), check=False)
    git(repo, "worktree", "prune", check=False)
    if delete_branch:
        git(repo, "branch", "-D", delete_branch, check=False)


def _update_in(workdir: Path, repo: Path, plan: UpdatePlan, answers: dict, result: UpdateResult):
    try:
        _run_copier_update(workdir, plan.target)
    except Exception as exc:  # noqa: BLE001  (copier raises many types; each is this repo's result)
        if workdir == repo:  # the repo was clean: put it back exactly as it was
            git(repo, "reset", "--quiet", "--hard", "HEAD", check=False)
            git(repo, "clean", "--quiet", "-fd", check=False)
        result.result, result.reason = FAILED, _copier_message(exc)
        return result
    result.changed = [p for p in changed_paths(workdir) if p != ANSWERS_FILE]
    result.conflicts = conflicted_paths(workdir, result.changed)
    result.kept_deleted = kept_deleted(
        workdir, read_answers(workdir).src_path, plan.target, answers
    )
    result.result = CONFLICTS if result.conflicts else UPDATED
    if plan.branch and not plan.dry_run:
        message = f"Update template from {result.from_version} to {plan.target}"
        if result.conflicts:
            message += "\n\nConflicts to resolve in: " + ", ".join(result.conflicts)
        commit_everything(workdir, message)
    return result


def _use_own_template_cache(slots) -> None:
    """Give this worker process a Copier mirror cache of its own.

    Copier keeps one git mirror per template URL and refreshes it on every clone; two processes
    refreshing the same mirror at once make one of them fail. One cache per worker slot (reused
    by later runs) keeps the mirrors apart.
    """
    base = os.environ.get("COPIER_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tutorkit" / "copier"
    )
    os.environ["COPIER_CACHE_DIR"] = str(Path(base) / f"tutorkit-job-{slots.get()}")


def update_fleet(plans: list[UpdatePlan], jobs: int, watch=None) -> list[UpdateResult]:
    """Run ``update_one`` for every plan, ``jobs`` at a time in separate processes.

    Copier changes the process's working directory while it updates, so repos never share a
    process at the same time. Worker processes are forked after copier is imported, so no repo
    pays for importing it again. ``watch(total)`` is entered once the workers exist (so no
    progress-display thread is running when they fork) and yields a callable run per result.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import copier  # noqa: F401  (imported once here, inherited by the forked workers)

    watch = watch or (lambda total: contextlib.nullcontext())
    results: dict[str, UpdateResult] = {}
    if jobs <= 1 or len(plans) <= 1:
        with watch(len(plans)) as done:
            for plan in plans:
                results[plan.repo] = update_one(plan)
                if done:
                    done(results[plan.repo])
        return [results[plan.repo] for plan in plans]
    # fork: workers inherit the imported copier; where there is no fork (Windows), spawn.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = min(jobs, len(plans))
    slots = context.Queue()
    for slot in range(workers):
        slots.put(slot)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_use_own_template_cache,
        initargs=(slots,),
    ) as pool:
        futures = {pool.submit(update_one, plan): plan for plan in plans}
        with watch(len(plans)) as done:
            for future in as_completed(futures):
                plan = futures[future]
                try:
                    res = future.result()
                except Exception as exc:  # noqa: BLE001  (a crashed worker fails that repo only)
                    res = UpdateResult(plan.repo, FAILED, reason=_copier_message(exc))
                results[plan.repo] = res
                if done:
                    done(res)
    return [results[plan.repo] for plan in plans]
