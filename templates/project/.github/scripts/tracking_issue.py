"""Keep one tracking issue per label in step with a workflow run's result.

A failing run of the scheduled (or manually started) workflow opens the issue, or comments on
the open one; a passing run closes it. The issue is found by its label and open state, so
there is one per label: should two ever be open (two runs racing, or one opened by hand), the
newer ones are closed as duplicates of the oldest. The workflow job that runs this script sets
`concurrency:` to one group per label, so runs update the issue one after the other.

Usage (GitHub Actions sets the environment):
    python .github/scripts/tracking_issue.py --label notebooks-failing --title "..." \\
        --what "The weekly notebooks run"

Environment: NEEDS (the job's `toJSON(needs)`: each job's result and outputs), EVENT
(github.event_name), RUN_URL (the run's web page), GH_TOKEN and GH_REPO (for `gh`).
A job's `failed` output lists its failing tests and notebooks, one a line; a `drift` output
(the dependency-drift canary) lists the installed releases that differ from the pins, and a
`culprit` output (its bisection, .github/scripts/drift_bisect.py) names the upgrade that breaks
them and the trials made.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime

OPENING_EVENTS = {"schedule", "workflow_dispatch"}  # a failing push is seen by its author


def gh(*args: str) -> str:
    done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"gh {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def outcome(needs: dict) -> str:
    """failure when a job failed, success when every job passed (or was skipped)."""
    results = [job.get("result") for job in needs.values()]
    if "failure" in results:
        return "failure"
    if "success" in results and all(r in ("success", "skipped") for r in results):
        return "success"
    return "unknown"  # cancelled: says nothing about the notebooks


def report(needs: dict, what: str, run_url: str) -> str:
    lines = [f"{what} failed: {run_url}", "", "Failing jobs:"]
    for job_id, job in needs.items():
        if job.get("result") == "failure":
            lines += job_lines(job_id, job)
    culprit = outputs_named(needs, "culprit")
    if culprit:
        lines += ["", "The upgrade that breaks them (tried from requirements.lock):", ""]
        lines += culprit
    drift = outputs_named(needs, "drift")
    if drift:
        lines += ["", "Installed releases that differ from the pins (requirements.lock):", ""]
        lines += drift
    return "\n".join(lines) + "\n"


def outputs_named(needs: dict, name: str) -> list[str]:
    """Each job's non-empty output ``name``."""
    found = [(job.get("outputs") or {}).get(name, "").strip() for job in needs.values()]
    return [text for text in found if text]


def job_lines(job_id: str, job: dict) -> list[str]:
    """A failing job, and the tests and notebooks it names as failed."""
    failed = [t for t in (job.get("outputs") or {}).get("failed", "").splitlines() if t]
    return [f"- `{job_id}`" + (":" if failed else ""), *(f"  - `{test}`" for test in failed)]


def body_file(text: str) -> str:
    folder = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    with tempfile.NamedTemporaryFile("w", suffix=".md", dir=folder, delete=False) as out:
        out.write(text)
    return out.name


def open_issue(args: argparse.Namespace, text: str) -> str:
    """Create the label (or refresh it) and open the issue; the issue's URL."""
    workflow = os.environ.get("GITHUB_WORKFLOW", "this")
    label = ("label", "create", args.label, "--color", args.color, "--force")
    gh(*label, "--description", f"Opened and closed by the {workflow} workflow")
    footer = (
        f"\nThe `{workflow}` workflow keeps this issue (label `{args.label}`): each later "
        "failing run comments here, and the next passing run closes it.\n"
    )
    body = body_file(text + footer)
    url = gh("issue", "create", "--title", args.title, "--label", args.label, "--body-file", body)
    return url.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--what", required=True, help="what failed, e.g. 'The notebooks run'")
    parser.add_argument("--color", default="B60205", help="the label's colour when created")
    args = parser.parse_args()
    needs = json.loads(os.environ["NEEDS"])
    event, run_url = os.environ.get("EVENT", ""), os.environ["RUN_URL"]
    result = outcome(needs)

    listed = gh("issue", "list", "--label", args.label, "--state", "open", "--json", "number")
    numbers = sorted(item["number"] for item in json.loads(listed))
    issue = numbers[0] if numbers else None
    for duplicate in numbers[1:]:
        note = f"Duplicate of #{issue}: one tracking issue per label (`{args.label}`)."
        gh("issue", "close", str(duplicate), "--comment", note, "--reason", "not planned")
        print(f"closed #{duplicate} as a duplicate of #{issue}")

    if result == "failure":
        text = report(needs, args.what, run_url)
        if issue is not None:
            day = datetime.now(UTC).strftime("%Y-%m-%d")
            note = body_file(f"Still failing ({day}).\n\n{text}")
            gh("issue", "comment", str(issue), "--body-file", note)
            print(f"commented on #{issue}")
        elif event in OPENING_EVENTS:
            print(f"opened {open_issue(args, text)}")
        else:
            print(f"no tracking issue opened for a {event} run")
    elif result == "success" and issue is not None:
        gh("issue", "close", str(issue), "--comment", f"{args.what} passes again: {run_url}")
        print(f"closed #{issue}")
    else:
        print(f"nothing to do: the run's result is {result}, no open `{args.label}` issue")


if __name__ == "__main__":
    main()
