"""Output: tables for people (rich, on stdout), JSON for programs, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path


def print_json(rows: list[dict]) -> None:
    json.dump(rows, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _print_table(title: str, columns: list[str], rows: list[list[str]], styles: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row, style in zip(rows, styles, strict=True):
        table.add_row(*row, style=style or None)
    Console(width=None if sys.stdout.isatty() else 200).print(table)


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
    if result.result == "conflicts":
        text = f"{'would have ' if result.dry_run else ''}conflicts in {_some(result.conflicts)}"
    elif result.result in ("refused", "failed"):
        text = f"{result.result}: {result.reason}"
    elif result.result == "updated" and result.dry_run:
        text = f"would change {_some(result.changed)}"
    else:
        text = result.result
    if result.kept_deleted:
        text += f" (kept deleted: {', '.join(result.kept_deleted)})"
    if result.branch and result.result in ("updated", "conflicts") and not result.dry_run:
        text += f" on branch {result.branch}"
    return text


def print_update_table(results) -> None:
    rows = [[_repo_name(r.repo), r.from_version, r.to_version, update_outcome(r)] for r in results]
    styles = [
        "red" if r.needs_attention else "green" if r.result == "updated" else "" for r in results
    ]
    _print_table("tutorkit update", ["repo", "from", "to", "result"], rows, styles)
    counts = Counter(r.result for r in results)
    print(", ".join(f"{n} {state}" for state, n in sorted(counts.items())) + ".")
    if counts["updated"] and not any(r.branch or r.dry_run for r in results):
        print("Updated repos have uncommitted changes: review them (git diff) and commit.")


def print_status_table(statuses) -> None:
    rows = [[_repo_name(s.repo), s.framework, s.version, s.latest, s.state] for s in statuses]
    styles = ["red" if s.error else "yellow" if s.behind else "" for s in statuses]
    _print_table(
        "tutorkit status", ["repo", "framework", "version", "latest", "state"], rows, styles
    )


def print_check_table(repo: Path, results) -> None:
    rows, styles = [], []
    for r in results:
        detail = "; ".join(([f"ran {r.interpreter}"] if r.interpreter else []) + r.problems)
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
