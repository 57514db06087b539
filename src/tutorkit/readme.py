"""A README's title and first paragraph, as ``tutorkit adopt`` records them.

Real READMEs start in many ways: blank lines, YAML front matter, a row of badges, an HTML
``<h1>``, a ``##`` heading, a Setext (underlined) heading, or reStructuredText's over- and
underlined titles and ``..`` directives. The title is the first heading at any level; the
description is the first paragraph of prose after it (not badges, images, HTML, code, tables or
lists), joined into one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DESCRIPTION = 200
ATX = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
HTML_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.I | re.S)
# A line that underlines (or overlines) a title: Markdown's = and -, and reStructuredText's
# punctuation characters.
ADORNMENT = re.compile(r"^([=\-~^\"'`#*+_:.<>])\1{2,}\s*$|^(=+|-+)\s*$")
NOT_PROSE = ("[![", "![", "<", "|", "```", "~~~", "..", ":", ">", " ", "\t")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


@dataclass
class Summary:
    title: str = ""
    description: str = ""


def _front_matter(lines: list[str]) -> int:
    """How many lines YAML (---) or TOML (+++) front matter takes at the top."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    fence = lines[0].strip()
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == fence), None)
    return 0 if end is None else end + 1


def _visible(lines: list[str]) -> list[str]:
    """``lines`` with fenced code blocks and HTML comments blanked out (line numbers kept)."""
    shown, closing = [], ""
    for line in lines:
        text = line.strip()
        if closing:
            shown.append("")
            closing = "" if closing in text else closing
        elif text.startswith(("```", "~~~")):
            shown.append("")
            closing = text[:3]
        elif text.startswith("<!--"):
            shown.append("")
            closing = "" if "-->" in text else "-->"
        else:
            shown.append(line)
    return shown


def plain(text: str) -> str:
    """Markdown or reStructuredText inline markup as plain text, on one line."""
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_{1,2}", r"\1", text)  # rst `text <url>`_
    text = re.sub(r"<[^>]+>", " ", text)  # HTML tags
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # Markdown links and images
    text = re.sub(r"\|[^|\s][^|]*\|_{0,2}", "", text)  # rst |substitutions|
    text = re.sub(r"[*_`]+", "", text)
    text = re.sub(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", " ", text)
    return " ".join(text.split()).strip(" #")


def _heading(lines: list[str], i: int) -> tuple[str, int] | None:
    """The heading that starts at line ``i`` and the index of the line after it, if any."""
    line = lines[i].rstrip()
    after = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
    if match := ATX.match(line):
        return match.group(1), i + 1
    if match := HTML_HEADING.search(line):
        return match.group(1), i + 1
    if ADORNMENT.match(line) and i + 2 < len(lines) and ADORNMENT.match(lines[i + 2].rstrip()):
        return after.strip(), i + 3  # reStructuredText: overline, title, underline
    if line.strip() and not line.startswith(NOT_PROSE) and ADORNMENT.match(after):
        return line.strip(), i + 2  # Setext / reStructuredText: title, underline
    return None


def _is_prose(line: str) -> bool:
    text = line.strip()
    return bool(text) and not line.startswith(NOT_PROSE) and not LIST_ITEM.match(line)


def _first_paragraph(lines: list[str], start: int) -> str:
    """The first paragraph of prose from line ``start`` on (until a blank line or markup)."""
    i = start
    while i < len(lines):
        if _heading(lines, i):
            i = _heading(lines, i)[1]
            continue
        if not _is_prose(lines[i]) or not plain(lines[i]):
            i += 1
            continue
        paragraph = []
        while i < len(lines) and _is_prose(lines[i]):
            paragraph.append(lines[i])
            i += 1
        return plain(" ".join(paragraph))
    return ""


def shorten(text: str, most: int = MAX_DESCRIPTION) -> str:
    """``text`` cut to ``most`` characters: at its first sentence's end, else at a word."""
    if len(text) <= most:
        return text
    sentence = re.match(r"^(.{20,}?[.!?])\s", text[: most + 1])
    if sentence:
        return sentence.group(1)
    return text[: most - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def summarise(text: str) -> Summary:
    """The title (first heading at any level) and the first paragraph after it."""
    lines = text.removeprefix("\ufeff").splitlines()
    start = _front_matter(lines)
    lines = lines[:start] + _visible(lines[start:])
    for i in range(start, len(lines)):
        found = _heading(lines, i)
        if found and plain(found[0]):
            return Summary(plain(found[0]), shorten(_first_paragraph(lines, found[1])))
    return Summary("", shorten(_first_paragraph(lines, start)))
