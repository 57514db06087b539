#!/usr/bin/env python3
"""What the release workflow (.github/workflows/release.yml) asks before and after publishing.

    python3 .ci/release.py check TAG DIST   TAG is the version of every distribution in DIST and
                                            the newest section of CHANGELOG.md; exit 1 otherwise
    python3 .ci/release.py notes TAG        print TAG's section of CHANGELOG.md (the release notes)
    python3 .ci/release.py prerelease TAG   exit 0 when TAG is a pre-release (v1.3.0rc1), else 1

Standard library only: the workflow runs it with the runner's python3, before anything is
installed. tests/project/test_release.py runs every command here against CHANGELOG.md.
"""

from __future__ import annotations

import email.parser
import re
import sys
import tarfile
import zipfile
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
SECTION = re.compile(r"^## (\S+)[ \t]*$", re.M)
PRERELEASE = re.compile(r"\d(a|b|rc|\.dev)\d+")  # PEP 440 pre- and dev-releases, normalized


class ReleaseError(Exception):
    """A reason not to release, as one sentence."""


def sections(changelog: Path = CHANGELOG) -> list[tuple[str, str]]:
    """(tag, body) of every `## <tag>` section, in file order (newest first)."""
    text = changelog.read_text(encoding="utf-8")
    heads = list(SECTION.finditer(text))
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return [(h.group(1), text[h.end() : end].strip()) for h, end in zip(heads, ends, strict=True)]


def notes(tag: str, changelog: Path = CHANGELOG) -> str:
    body = dict(sections(changelog)).get(tag)
    if not body:
        raise ReleaseError(f"CHANGELOG.md has no section '## {tag}' that says what {tag} changes.")
    return body


def dist_versions(dist: Path) -> dict[str, str]:
    """File name -> the version its own metadata states, for each wheel and sdist in ``dist``."""
    versions = {}
    for path in sorted(dist.glob("*.whl")):
        with zipfile.ZipFile(path) as wheel:
            [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
            versions[path.name] = _version(wheel.read(metadata).decode())
    for path in sorted(dist.glob("*.tar.gz")):
        with tarfile.open(path) as sdist:
            [pkg_info] = [
                n for n in sdist.getnames() if n.count("/") == 1 and n.endswith("/PKG-INFO")
            ]
            versions[path.name] = _version(sdist.extractfile(pkg_info).read().decode())
    return versions


def _version(metadata: str) -> str:
    return email.parser.Parser().parsestr(metadata, headersonly=True)["Version"]


def check(tag: str, dist: Path, changelog: Path = CHANGELOG) -> None:
    versions = dist_versions(dist)
    if not any(name.endswith(".whl") for name in versions) or len(versions) < 2:
        raise ReleaseError(f"{dist} should hold one wheel and one sdist: run python -m build.")
    wrong = sorted(
        f"{name} is {version}" for name, version in versions.items() if tag != f"v{version}"
    )
    if wrong:
        raise ReleaseError(
            f"The tag {tag} is not the package's version ({'; '.join(wrong)}): set __version__ "
            "in src/tutorkit/__init__.py to the tag without its v, or tag that version."
        )
    notes(tag, changelog)
    newest = sections(changelog)[0][0]
    if newest != tag:
        raise ReleaseError(f"The newest section of CHANGELOG.md is {newest}, not {tag}.")


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["check", tag, dist]:
                check(tag, Path(dist))
                print(f"{tag}: the wheel, the sdist and CHANGELOG.md agree.")
            case ["notes", tag]:
                print(notes(tag))
            case ["prerelease", tag]:
                return 0 if PRERELEASE.search(tag) else 1
            case _:
                print("usage:\n" + __doc__.split("\n\n")[1], file=sys.stderr)
                return 2
    except ReleaseError as exc:
        print(f"release: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
