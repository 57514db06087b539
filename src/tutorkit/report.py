"""Output: tables for people (rich, on stdout), JSON for programs, progress on stderr."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from tutorkit.untrusted import printable


def print_json(rows: list[dict]) -> None:
    json.dump(rows, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _print_table(title: str, columns: list[str], rows: list[list[str]], styles: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Cells hold repo contents (file names, messages): plain text, never rich markup, and
    # printable (no escape sequences, no credentials).
    table = Table(title=Text(printable(title)), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row, style in zip(rows, styles, strict=True):
        cells = [Text(printable(cell, newlines=True)) for cell in row]
        table.add_row(*cells, style=style or None)
    Console(width=None if sys.stdout.isatty() else _piped_width()).print(table)


def _piped_width() -> int:
    """The table's width when the output is not a terminal: $COLUMNS when it is a width (as a
    terminal's is read), else 200."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and 40 <= int(columns) <= 10_000 else 200


def _repo_name(repo: str) -> str:
    path = Path(repo)
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def _some(paths: list[str], most: int = 4) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def update_outcome(result) -> str:
    """The result column of ``tutorkit update``: one phrase per repo."""
    extras = [f" (kept deleted: {', '.join(result.kept_deleted)})"] if result.kept_deleted else []
    extras += [f" on branch {result.branch}"] if result.branch and result.landed else []
    return _outcome(result) + "".join(extras) + "".join(f"; {note}" for note in result.notes)


def _outcome(result) -> str:
    from tutorkit.update import Outcome

    outcome = result.outcome
    if outcome is Outcome.CONFLICTS:
        return f"{'would have ' if result.dry_run else ''}conflicts in {_some(result.conflicts)}"
    if outcome in (Outcome.REFUSED, Outcome.FAILED, Outcome.INTERRUPTED):
        return f"{outcome.value}: {result.reason}"
    if outcome is Outcome.UPDATED and result.dry_run:
        return f"would change {_some(result.changed)}" if result.changed else "would change nothing"
    return outcome.value


def _file_rows(results) -> list[list[str]]:
    """The files of the update table: every file in a dry run, else those to look at."""
    from tutorkit.merge import Change

    attention = (Change.CONFLICT, Change.AUTHORS, Change.KEPT_DELETED, Change.REFUSED)
    return [
        [_repo_name(r.repo), f.path, f.change.value, f.detail or _suggested(f)]
        for r in results
        for f in r.shown
        if r.dry_run or f.change in attention
    ]


def _suggested(update) -> str:
    return "the template's change is below" if update.suggestion else ""


# How each outcome is counted in the closing line: (one repo, a dry run's).
COUNTED = {
    "updated": ("updated", "would be updated"),
    "conflicts": ("updated with conflicts", "would have conflicts"),
    "up to date": ("up to date", "up to date"),
    "refused": ("refused", "would be refused"),
    "failed": ("failed", "failed"),
    "interrupted": ("interrupted", "interrupted"),
}


def update_summary(results) -> str:
    """``3 repos updated, 1 repo updated with conflicts.`` (a dry run: ``would be``)."""
    counts = Counter(r.outcome.value for r in results)
    dry = bool(results) and results[0].dry_run
    parts = [
        f"{n} {'repo' if n == 1 else 'repos'} {COUNTED[outcome][dry]}"
        for outcome, n in sorted(counts.items(), key=lambda item: list(COUNTED).index(item[0]))
    ]
    return (", ".join(parts) or "no repos") + "."


def suggestions(results) -> str:
    """The template's changes to the author's own files (not applied), as diffs, per repo."""
    from tutorkit.merge import Change

    parts = [
        f"--- {_repo_name(r.repo)}: {f.path} ---\n{f.suggestion}"
        for r in results
        for f in r.shown
        if f.suggestion and f.change in (Change.AUTHORS, Change.KEPT_DELETED)
    ]
    return "\n".join(parts)


def print_update_table(results) -> None:
    from tutorkit.update import Outcome

    rows = [[_repo_name(r.repo), r.from_version, r.to_version, update_outcome(r)] for r in results]
    styles = [
        "red" if r.needs_attention else "green" if r.outcome is Outcome.UPDATED else ""
        for r in results
    ]
    _print_table("tutorkit update", ["repo", "from", "to", "result"], rows, styles)
    files = _file_rows(results)
    if files:
        dry = results[0].dry_run
        title = "what the update would do to each file" if dry else "files to look at"
        _print_table(title, ["repo", "file", "change", "detail"], files, [""] * len(files))
    _print_closing(results)


def _print_closing(results) -> None:
    """What follows the tables: the template's suggestions, the count, what to do next."""
    from tutorkit.update import Outcome

    diffs = suggestions(results)
    if diffs:
        print("The template's changes to your own files, not applied (take what you want):")
        print(printable(diffs, newlines=True), end="")
    print(update_summary(results))
    if any(r.outcome is Outcome.INTERRUPTED for r in results):
        print(
            "Interrupted: the repos marked interrupted were not changed; every other repo is "
            "as the table says."
        )
    if any(r.landed and not r.branch for r in results):
        print("Updated repos have uncommitted changes: review them (git diff) and commit.")


def print_adoption(result) -> None:
    rows = [
        [key, str(value), result.sources.get(key, "default")]
        for key, value in result.answers.items()
        if not key.startswith("_")
    ]
    _print_table(
        f"tutorkit adopt {_repo_name(str(result.repo))}",
        ["question", "answer", "from"],
        rows,
        [""] * len(rows),
    )
    files = ", ".join(result.added)
    print(
        printable(f"Added {len(result.added)} files in one commit ({result.commit[:12]}): {files}.")
    )
    if result.changed:
        print(f"Changed: {', '.join(result.changed)} (the CI badge, as --badge asked).")
    name = printable(_repo_name(str(result.repo)))
    print(f"Next: tutorkit check {name} lists what remains to do.")
    if not (Path(result.repo) / "requirements.txt").exists():
        print(
            f"The repo has no requirements.txt, so CI installs none: tutorkit deps {name} "
            "proposes one, pinned as of the last commit."
        )


def print_deps(proposal) -> None:
    """What `tutorkit deps` found, the pinned file, and the date its versions are from."""
    rows = [[module, _some(files, 2)] for module, files in proposal.imports.items()]
    _print_table(
        f"tutorkit deps {_repo_name(proposal.repo)}", ["imported", "in"], rows, [""] * len(rows)
    )
    print(printable(proposal.requirements, newlines=True), end="")
    where = "Wrote requirements.txt" if proposal.written else "Proposed (run with --write to save)"
    print(
        f"{where}: {len(proposal.distributions)} distributions, pinned with their dependencies "
        f"as of {proposal.date} ({proposal.date_source}), for Python {proposal.python}."
    )


def github_columns(health) -> list[str]:
    """The --github columns of `tutorkit status`: workflow, weekly run, update PR, issues."""
    if health.error:
        return [f"error: {health.error}", "", "", ""]
    run = health.last_scheduled_run
    weekly = f"{run['conclusion'] or run['status']} {run['created_at'][:10]}" if run else "none yet"
    issues = ", ".join(f"#{i['number']} {i['label']}" for i in health.tracking_issues)
    return [_workflow_column(health), weekly, _pull_column(health.update_pull_request), issues]


def _workflow_column(health) -> str:
    workflow = health.notebooks_workflow
    if health.reenabled:
        workflow += f" (re-enabled: {', '.join(Path(p).name for p in health.reenabled)})"
    if health.disabled_for_inactivity:
        names = ", ".join(Path(p).name for p in health.disabled_for_inactivity)
        workflow += f" (also disabled for inactivity: {names})"
    return workflow


def _pull_column(pull: dict | None) -> str:
    """The open template-update pull request and its checks ("" when there is none)."""
    if not pull:
        return ""
    checks = pull["checks"]
    counts = [f"{checks[kind]} {kind}" for kind in ("passed", "failing", "pending")]
    counts = ", ".join(c for c in counts if not c.startswith("0 ")) or "none"
    if checks["check_runs"] != "read":
        counts += f" (check runs {checks['check_runs']})"
    return f"#{pull['number']}{' (draft)' if pull['draft'] else ''} checks: {counts}"


def print_status_table(statuses) -> None:
    rows = [[_repo_name(s.repo), s.framework, s.version, s.latest, s.state] for s in statuses]
    columns = ["repo", "framework", "version", "latest", "state"]
    if any(s.github for s in statuses):
        columns += ["notebooks workflow", "weekly run", "update PR", "tracking issues"]
        for row, status in zip(rows, statuses, strict=True):
            row += github_columns(status.github) if status.github else ["", "", "", ""]
    _print_table("tutorkit status", columns, rows, [_status_style(s) for s in statuses])


def _status_style(status) -> str:
    if status.error or (status.github and status.github.attention):
        return "red"
    return "yellow" if status.behind else ""


def print_rollout(rollout, dry_run: bool) -> None:
    """`tutorkit fleet rollout`: each member's wave and stage, then what started."""
    rows = [[r["repo"], r["wave"], r["stage"]] for r in rollout.rows]
    styles = ["red" if r["repo"] in rollout.blocked else "" for r in rollout.rows]
    _print_table("tutorkit fleet rollout", ["repo", "wave", "stage"], rows, styles)
    verb = "Would start" if dry_run else "Started"
    started = ", ".join(rollout.start) or "none"
    print(f"{verb} the template update of: {started}.")
    if rollout.blocked:
        print(f"The other waves wait: {', '.join(rollout.blocked)} must pass first.")


def print_check_table(repo: Path, results) -> None:
    rows, styles = [], []
    for r in results:
        ran = [f"ran {r.interpreter}"] if r.interpreter else []
        detail = "; ".join(ran + r.problems + r.notes)
        if r.result in ("fail", "warn"):
            detail += f"\nfix: {r.fix}\n{r.url}"
        rows.append([r.id, r.result, r.title, detail])
        styles.append({"fail": "red", "warn": "yellow", "skip": "yellow"}.get(r.result, ""))
    _print_table(
        f"tutorkit check {_repo_name(str(repo))}", ["id", "result", "rule", "details"], rows, styles
    )


@contextmanager
def progress(description: str, total: int | None):
    """A progress bar on stderr (on a terminal only); yields a function to call per item done."""
    if not sys.stderr.isatty():
        yield lambda *_: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda *_: bar.advance(task)
