"""MkDocs hook: the CLI reference is the CLI's own ``--help``, never typed by hand.

``docs/reference/cli.md`` holds the marker ``<!-- tutorkit-cli-reference -->``; at build time
this hook replaces it with the help of ``tutorkit`` and of every subcommand, taken from the
parser that ``tutorkit.cli`` itself uses. A renamed option or a new subcommand changes the
page with no edit here.
"""

from __future__ import annotations

import argparse
import os
from unittest import mock

from mkdocs.exceptions import PluginError

MARKER = "<!-- tutorkit-cli-reference -->"
PAGE = "reference/cli.md"
WIDTH = "100"  # argparse wraps at $COLUMNS: a fixed width gives the same page everywhere


def cli_parser() -> argparse.ArgumentParser:
    from tutorkit.cli import build_parser

    return build_parser()


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers, in the order the CLI declares them."""
    for action in parser._actions:  # argparse offers no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def reference() -> str:
    with mock.patch.dict(os.environ, {"COLUMNS": WIDTH}):
        parser = cli_parser()
        parts = [
            "## tutorkit {#tutorkit}",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
        ]
        for name, sub in subcommands(parser).items():
            parts += ["", f"## tutorkit {name} {{#{name}}}", "", "```text"]
            parts += [sub.format_help().rstrip(), "```"]
            for action, inner in subcommands(sub).items():  # `tutorkit fleet init`, ...
                parts += ["", f"### tutorkit {name} {action} {{#{name}-{action}}}", ""]
                parts += ["```text", inner.format_help().rstrip(), "```"]
    return "\n".join(parts) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} lost its marker {MARKER}: the CLI reference has nowhere to go.")
    return markdown.replace(MARKER, reference())
