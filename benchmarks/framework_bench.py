"""Time generated companion repos (a framework's, a task's): import, full training, smoke suite.

Give each installed repo as its Python interpreter and its folder::

    python benchmarks/framework_bench.py \\
        --repo /tmp/ptvenv/bin/python /tmp/pt1 \\
        --repo /tmp/tfvenv/bin/python /tmp/tf1 --repeat 2

For every repo it measures, in fresh processes:
  - import: seconds to import the package's engine and model (the framework import);
  - training: ``python -m <pkg>.train --config default`` run ``--repeat`` times;
    ``seconds.train`` and ``device`` from run.json, ``test_accuracy`` from metrics.json, and whether
    every repeat wrote byte-identical metrics.json (determinism);
  - smoke: the wall time of the repo's own ``pytest`` (unit tests + notebooks).

It prints a table and writes the numbers to ``benchmarks/results/<time>.json``
(git-ignored). The machine's load is recorded too: on a busy machine times grow.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
IMPORT_PROBE = (
    "import time; t = time.perf_counter(); "
    "import {package}.engine, {package}.model; "
    "print(time.perf_counter() - t)"
)


def answers(repo: Path) -> dict[str, str]:
    """The top-level ``key: value`` pairs of the repo's .copier-answers.yml (no YAML needed)."""
    path = repo / ".copier-answers.yml"
    if not path.is_file():
        sys.exit(f"error: {repo} has no .copier-answers.yml: give the folder of a generated repo.")
    pairs = re.findall(r"^(\w+):\s*(.*?)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {key: value.strip("'\"") for key, value in pairs}


def run(command: list[str], cwd: Path, timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k != "TUTORIAL_PROFILE"}
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return time.perf_counter() - start, done


def failed(what: str, done: subprocess.CompletedProcess) -> None:
    tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
    sys.exit(f"error: {what} failed (exit {done.returncode}):\n" + "\n".join(tail))


def bench_repo(python: str, repo: Path, repeat: int, smoke: bool) -> dict[str, Any]:
    info = answers(repo)
    package = info["package_name"]
    result: dict[str, Any] = {"framework": info.get("framework", "?"), "repo": str(repo)}
    result["task"] = info.get("task", "image-classification")  # repos older than the question

    _, done = run([python, "-c", IMPORT_PROBE.format(package=package)], repo, timeout=300)
    if done.returncode:
        failed(f"importing {package}", done)
    result["import_seconds"] = round(float(done.stdout.split()[-1]), 3)
    result["import_stderr"] = done.stderr.strip()

    trainings = []
    with tempfile.TemporaryDirectory(prefix="framework-bench-") as tmp:
        for index in range(repeat):
            runs_dir = Path(tmp) / str(index)
            command = [python, "-m", f"{package}.train", "--config", "default", "--quiet"]
            wall, done = run([*command, "--runs-dir", str(runs_dir)], repo, timeout=1800)
            if done.returncode:
                failed(f"training {package}", done)
            (run_dir,) = runs_dir.iterdir()
            metrics_bytes = (run_dir / "metrics.json").read_bytes()
            metrics = json.loads(metrics_bytes)
            run_info = json.loads((run_dir / "run.json").read_text())
            seconds = run_info["seconds"]
            trainings.append(
                {
                    "train_seconds": seconds["train"],
                    "setup_seconds": seconds["setup"],
                    "wall_seconds": round(wall, 3),
                    "device": run_info.get("device", "?"),
                    "test_accuracy": metrics["test_accuracy"],
                    "val_accuracy": metrics["val_accuracy"],
                    "stderr": done.stderr.strip(),
                    "metrics_bytes": metrics_bytes,
                }
            )
    result["deterministic"] = (
        len({t.pop("metrics_bytes") for t in trainings}) == 1 if repeat > 1 else None
    )
    result["trainings"] = trainings
    result["train_seconds"] = statistics.median(t["train_seconds"] for t in trainings)
    result["test_accuracy"] = trainings[0]["test_accuracy"]
    result["device"] = trainings[0]["device"]

    if smoke:
        wall, done = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], repo, 1800)
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        result["smoke"] = {
            "seconds": round(wall, 2),
            "passed": done.returncode == 0,
            "summary": summary,
        }
        if done.returncode:
            print(f"warning: the smoke suite of {repo} failed: {summary}", file=sys.stderr)
    return result


def table(results: list[dict[str, Any]]) -> str:
    header = (
        "framework",
        "task",
        "device",
        "import s",
        "train s",
        "test acc",
        "deterministic",
        "smoke s",
        "smoke",
    )
    rows = [header]
    for r in results:
        smoke = r.get("smoke") or {}
        rows.append(
            (
                r["framework"],
                r["task"],
                r["device"],
                f"{r['import_seconds']:.2f}",
                f"{r['train_seconds']:.2f}",
                f"{r['test_accuracy']:.4f}",
                {True: "yes", False: "NO", None: "-"}[r["deterministic"]],
                f"{smoke['seconds']:.1f}" if smoke else "-",
                ("passed" if smoke["passed"] else "FAILED") if smoke else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repo",
        nargs=2,
        action="append",
        required=True,
        metavar=("PYTHON", "REPO"),
        help="interpreter of the repo's environment and the generated repo's folder (repeatable)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="training runs per repo (default 2)")
    parser.add_argument("--no-smoke", action="store_true", help="skip the smoke pytest run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.strftime("%Y%m%d-%H%M%S")
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    results = [
        bench_repo(python, Path(repo).resolve(), max(args.repeat, 1), not args.no_smoke)
        for python, repo in args.repo
    ]
    machine["load_after"] = os.getloadavg()
    print(table(results))
    print(
        f"load average (1 min) before {machine['load_before'][0]:.1f}, "
        f"after {machine['load_after'][0]:.1f} on {machine['cpus']} CPUs"
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{started}.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
