"""How fast does `copier copy --defaults` render the template family?

Measured against the plain tool on a trivial one-file template, in this process (Copier's
Python API) and through the `copier` command, so the ratio says what the template itself
costs, whatever the machine:

    python benchmarks/template_bench.py [--runs 15]

Target (issue 2): median `copier copy --defaults` of the template <= 1.5 s on a 2-core machine.
Results are printed and written to benchmarks/results/template_bench.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import copier

CHECKOUT = Path(__file__).resolve().parents[1]
RESULTS = CHECKOUT / "benchmarks" / "results"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def tagged_repo(path: Path, fill) -> Path:
    path.mkdir(parents=True)
    fill(path)
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    git(
        path,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-qm",
        "t",
    )
    git(path, "tag", "v0.0.0")
    return path


def fill_tutorkit(path: Path) -> None:
    shutil.copy2(CHECKOUT / "copier.yml", path / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", path / "templates")


def fill_trivial(path: Path) -> None:
    (path / "copier.yml").write_text("name:\n  type: str\n  default: world\n")
    (path / "hello.txt.jinja").write_text("Hello {{ name }}\n")


def time_copies(template: Path, work: Path, runs: int, **data) -> list[float]:
    seconds = []
    for index in range(runs):
        dest = work / f"{template.name}-{index}"
        start = time.perf_counter()
        copier.run_copy(str(template), dest, data=data, defaults=True, quiet=True, vcs_ref="v0.0.0")
        seconds.append(time.perf_counter() - start)
        shutil.rmtree(dest)
    return seconds


def time_cli_copies(template: Path, work: Path, runs: int) -> list[float]:
    """The same through the `copier` command: a new process each time, imports included."""
    seconds = []
    for index in range(runs):
        dest = work / f"cli-{template.name}-{index}"
        command = [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet"]
        start = time.perf_counter()
        subprocess.run([*command, "--vcs-ref", "v0.0.0", str(template), str(dest)], check=True)
        seconds.append(time.perf_counter() - start)
        shutil.rmtree(dest)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tutorkit = tagged_repo(work / "tutorkit", fill_tutorkit)
        trivial = tagged_repo(work / "trivial", fill_trivial)
        time_copies(trivial, work, 2)  # warm imports and caches for both
        rows = {
            "trivial template": time_copies(trivial, work, args.runs),
            "tutorkit pytorch": time_copies(tutorkit, work, args.runs, framework="pytorch"),
            "tutorkit tensorflow": time_copies(tutorkit, work, args.runs, framework="tensorflow"),
            "trivial template, CLI": time_cli_copies(trivial, work, args.runs),
            "tutorkit pytorch, CLI": time_cli_copies(tutorkit, work, args.runs),
        }
    report = {}
    print(f"{'copier copy --defaults':<26}{'median s':>10}{'min s':>8}{'ratio':>8}")
    for name, seconds in rows.items():
        trivial_row = "trivial template, CLI" if name.endswith("CLI") else "trivial template"
        baseline = statistics.median(rows[trivial_row])
        median = statistics.median(seconds)
        report[name] = {
            "median_s": median,
            "min_s": min(seconds),
            "ratio_to_trivial": median / baseline,
        }
        print(f"{name:<26}{median:>10.3f}{min(seconds):>8.3f}{median / baseline:>8.2f}")
    verdict = all(report[n]["median_s"] <= 1.5 for n in report if n.startswith("tutorkit"))
    print(f"target: median <= 1.5 s -> {'met' if verdict else 'MISSED'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "template_bench.json").write_text(
        json.dumps({"runs": args.runs, **report}, indent=2)
    )


if __name__ == "__main__":
    main()
