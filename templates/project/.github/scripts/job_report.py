"""What a test job tells the tracking issue, as step outputs (and in the job summary).

python .github/scripts/job_report.py failed JUNIT_XML
    `failed`: the failing tests and notebooks, one a line, from pytest's JUnit report
    (written with `-o junit_family=xunit1 --junitxml=JUNIT_XML`, which names each file).
python .github/scripts/job_report.py drift requirements.lock
    `drift`: every `name==version` pin (of a lock or a requirements file) whose installed
    release differs (the dependency-drift canary installs the newest releases, then compares).
"""

from __future__ import annotations

import os
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def failed_tests(junit: Path) -> list[str]:
    if not junit.is_file():
        return []  # pytest stopped before it wrote a report: the job log says why
    failed = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        path, name = case.get("file", ""), case.get("name", "")
        # A notebook (the notebook runner; nbmake in repos made before it) is one test named
        # after its file.
        failed.append(path if Path(path).name == name else f"{path}::{name}")
    return list(dict.fromkeys(failed))


def drift(requirements: Path) -> list[str]:
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if not match:
            continue
        name, pinned = match.groups()
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # not for this platform (an environment marker)
        if installed.split("+")[0] != pinned.split("+")[0]:
            lines.append(f"- `{name}`: pinned {pinned}, newest {installed}")
    return lines


def write_output(what: str, lines: list[str]) -> None:
    """The step output `what` (multi-line, behind a random delimiter)."""
    delimiter = f"EOF-{uuid.uuid4().hex}"
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"{what}<<{delimiter}\n" + "".join(f"{x}\n" for x in lines) + f"{delimiter}\n")


def write_summary(what: str, lines: list[str]) -> None:
    """A section of the job summary that lists `lines`."""
    if what == "failed":
        heading, items = "Failing tests and notebooks", [f"- `{x}`" for x in lines]
    else:
        heading, items = "Newest releases that differ from the pins", lines
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
        out.write(f"### {heading}\n\n" + "".join(f"{x}\n" for x in items) + "\n")


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("failed", "drift"):
        sys.exit(__doc__)
    what, path = sys.argv[1], Path(sys.argv[2])
    lines = failed_tests(path) if what == "failed" else drift(path)
    print("\n".join(lines) or f"nothing {what}")
    if os.environ.get("GITHUB_OUTPUT"):
        write_output(what, lines)
    if os.environ.get("GITHUB_STEP_SUMMARY") and lines:
        write_summary(what, lines)


if __name__ == "__main__":
    main()
