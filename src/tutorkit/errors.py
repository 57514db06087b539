"""The one kind of failure tutorkit reports to people, and how it is worded.

A ``TutorkitError`` is a user-facing failure: its message is one sentence that says what went
wrong and what to do next. ``cli.main`` prints it and exits 1; a ``UsageError`` (a bad option or
argument) exits 2, as argparse does.
"""

from __future__ import annotations


class TutorkitError(Exception):
    """A failure to report to the user as one sentence (exit status 1)."""

    exit_code = 1


class UsageError(TutorkitError):
    """The command line asks for something that cannot be done as written (exit status 2)."""

    exit_code = 2


def one_line(exc: BaseException | str) -> str:
    """An exception's message (or any text) on one line: white space folded to single spaces."""
    return " ".join(str(exc).split())
