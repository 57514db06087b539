"""CHANGELOG.md: one `## vX.Y.Z` section per release (PEP 440 tags), newest first."""

from __future__ import annotations

import re
import subprocess

from packaging.version import InvalidVersion, Version
from support import CHECKOUT, TEMPLATE_TAG

import tutorkit

CHANGELOG = CHECKOUT / "CHANGELOG.md"


def sections() -> list[tuple[str, str]]:
    """(header, body) of every `## ` section."""
    parts = re.split(r"^## (.*)$", CHANGELOG.read_text(encoding="utf-8"), flags=re.M)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts), 2)]


def test_every_section_is_a_pep440_tag_newest_first():
    headers = [header for header, _ in sections()]
    assert headers, "CHANGELOG.md has no release section"
    versions = []
    for header in headers:
        assert re.fullmatch(r"v\S+", header), f"section header {header!r} is not a tag like v1.2.0"
        try:
            versions.append(Version(header))
        except InvalidVersion:
            raise AssertionError(f"{header!r} is not a PEP 440 version") from None
    assert versions == sorted(versions, reverse=True), "sections must be newest first"
    assert len(set(versions)) == len(versions), "a release has two sections"
    assert all(body for _, body in sections()), "every release says what it changes"


def test_changelog_has_a_section_for_this_version():
    assert TEMPLATE_TAG == f"v{tutorkit.__version__}"
    assert TEMPLATE_TAG in [header for header, _ in sections()]


def test_the_documented_quote_command_prints_one_section():
    """docs/maintaining.md shows how to quote a section (e.g. in a pull request body)."""
    command = next(
        line
        for line in (CHECKOUT / "docs" / "maintaining.md").read_text().splitlines()
        if line.startswith("sed -n") and "CHANGELOG.md" in line
    )
    command = command.replace("v0.1.0", TEMPLATE_TAG)
    done = subprocess.run(
        ["bash", "-c", command], cwd=CHECKOUT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == dict(sections())[TEMPLATE_TAG]
