"""Where the template lives: the copy embedded in the package, its canonical URL, its versions."""

from __future__ import annotations

import os
from pathlib import Path

from tutorkit import __version__
from tutorkit.errors import TutorkitError

# The canonical addresses, defined here once (pyproject.toml's [project.urls], mkdocs.yml and the
# README repeat them; tests/project/test_release.py checks that they agree).
PROJECT_URL = "https://github.com/tutorkit/tutorkit"  # the template, the CLI, issues, releases
DEFAULT_TEMPLATE_URL = f"{PROJECT_URL}.git"  # what answers files record as _src_path
DEFAULT_DOCS_URL = "https://tutorkit.github.io/tutorkit/"  # the user guide (mkdocs site_url)
TEMPLATE_URL_ENV = "TUTORKIT_TEMPLATE_URL"
DOCS_URL_ENV = "TUTORKIT_DOCS_URL"


def embedded_template_dir() -> Path:
    """The template shipped with this install.

    A wheel carries it as ``tutorkit/template/``; an editable or source checkout has it at the
    repository root, two levels above ``src/tutorkit``.
    """
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "template", package_dir.parents[1]):
        if (candidate / "copier.yml").is_file() and (candidate / "templates").is_dir():
            return candidate
    raise TutorkitError(
        f"The template is missing from this tutorkit install ({package_dir}): reinstall tutorkit."
    )


def template_url(override: str | None = None) -> str:
    """The canonical git URL recorded in answers files: option, then environment, then default."""
    return override or os.environ.get(TEMPLATE_URL_ENV) or DEFAULT_TEMPLATE_URL


def docs_url(page: str = "") -> str:
    """The address of a page of the user guide (``checks/``): $TUTORKIT_DOCS_URL, else the default.

    A fork that publishes its own guide sets the variable to its site's root.
    """
    root = os.environ.get(DOCS_URL_ENV) or DEFAULT_DOCS_URL
    return f"{root.rstrip('/')}/{page}"


def current_tag() -> str:
    """The template version tag matching this install."""
    return f"v{__version__}"


def known_frameworks() -> list[str]:
    """Frameworks the embedded template has parts for."""
    frameworks = embedded_template_dir() / "templates" / "frameworks"
    return sorted(p.name for p in frameworks.iterdir() if p.is_dir()) if frameworks.is_dir() else []


def parse_version(tag: str):
    """The PEP 440 version of a tag such as ``v1.2.0``, or None when it is not a version."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(tag)
    except (InvalidVersion, TypeError):
        return None


def latest_tag(tags: list[str], include_prereleases: bool = False) -> str | None:
    """The highest PEP 440 tag, ignoring pre-releases unless asked."""
    versioned = [(v, t) for t in tags if (v := parse_version(t)) is not None]
    if not include_prereleases:
        versioned = [(v, t) for v, t in versioned if not v.is_prerelease]
    return max(versioned)[1] if versioned else None
