"""Benchmark the tutorkit CLI against plain Copier on the same template, in one run.

    python benchmarks/cli_bench.py [--fleet 12] [--repeat 3]

Targets: `tutorkit new` no slower than `copier copy` (ratio <= 1.0); `tutorkit update --jobs 2`
on a fleet at least 5x faster than a loop of `copier update`; one fetch of the template per
fleet run, whatever the fleet's size (counted, with GIT_TRACE2, as the `git upload-pack`
processes that serve the template); `tutorkit status` at least 4x faster than a loop of
`copier check-update`; `tutorkit --help` under 0.3 s.
Prints a table and writes benchmarks/results/cli_bench.json. Everything runs in a temporary folder
with its own git configuration and Copier cache; the template is this checkout's, tagged twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tutorkit

CHECKOUT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OLD = f"v{tutorkit.__version__}"
NEW = "v99.0.0"


def run(*cmd, cwd=None, env=None) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}")


def timed(*cmd, cwd=None, env=None) -> float:
    start = time.perf_counter()
    run(*cmd, cwd=cwd, env=env)
    return time.perf_counter() - start


def template_fetches(*cmd, cwd=None, env=None, trace: Path) -> int:
    """Run ``cmd``; how many times the template repository was read (``git upload-pack`` runs)."""
    trace.unlink(missing_ok=True)
    run(*cmd, cwd=cwd, env={**env, "GIT_TRACE2_EVENT": str(trace)})
    starts = [json.loads(line) for line in trace.read_text().splitlines() if '"start"' in line]
    return sum(
        1
        for event in starts
        if event.get("event") == "start" and "upload-pack" in " ".join(event.get("argv", [])[:2])
    )


def best_of(repeat: int, prepare, measure) -> float:
    """Median of ``repeat`` timings; ``prepare(i)`` runs untimed before each ``measure(i)``."""
    times = []
    for i in range(repeat):
        prepare(i)
        times.append(measure(i))
    return statistics.median(times)


def make_template(root: Path, env: dict) -> str:
    repo = root / "tutorkit.git"
    repo.mkdir()
    shutil.copy2(CHECKOUT / "copier.yml", repo / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", repo / "templates")
    run("git", "init", "--quiet", cwd=repo, env=env)
    run("git", "add", "--all", cwd=repo, env=env)
    run("git", "commit", "--quiet", "-m", "template", cwd=repo, env=env)
    run("git", "tag", OLD, cwd=repo, env=env)
    readme = repo / "templates" / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line added by the next release.\n")
    (repo / "templates" / "project" / "CHANGELOG.md").write_text("# Changelog\n")
    run("git", "add", "--all", cwd=repo, env=env)
    run("git", "commit", "--quiet", "-m", "next release", cwd=repo, env=env)
    run("git", "tag", NEW, cwd=repo, env=env)
    return f"file://{repo}"


def make_fleet(root: Path, size: int, url: str, env: dict) -> Path:
    """``size`` repos at the old tag, each with a committed user edit."""
    fleet = root / "fleet"
    first = fleet / "repo-00"
    run(BIN / "tutorkit", "new", first, "--defaults", env=env)
    config = first / "configs" / "default.yaml"
    config.write_text(config.read_text().replace("epochs: 20", "epochs: 25"))
    run("git", "commit", "--quiet", "-am", "user edit", cwd=first, env=env)
    for i in range(1, size):
        shutil.copytree(first, fleet / f"repo-{i:02d}", symlinks=True)
    return fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only-new", action="store_true", help="measure tutorkit new only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutorkit-bench-") as tmp:
        root = Path(tmp)
        gitconfig = root / "gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Bench\n\temail = bench@tutorkit.invalid\n"
            "[init]\n\tdefaultBranch = main\n"
        )
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "COPIER_CACHE_DIR": str(root / "copier-cache"),
        }
        url = make_template(root, env)
        env["TUTORKIT_TEMPLATE_URL"] = url
        copier, tk = BIN / "copier", BIN / "tutorkit"
        run(copier, "check-update", "--help", env=env)  # copier 9.19 has check-update
        results: dict[str, dict] = {}

        # Interleaved (copier, tutorkit, copier, ...) so that load from elsewhere hits both.
        copy_times, new_times = [], []
        dest = root / "new"
        for _ in range(max(5, args.repeat)):
            shutil.rmtree(dest, ignore_errors=True)
            copy_times.append(
                timed(copier, "copy", "--defaults", "-q", "--vcs-ref", OLD, url, dest, env=env)
            )
            shutil.rmtree(dest)
            new_times.append(timed(tk, "new", dest, "--defaults", env=env))
        results["new"] = {
            "tutorkit": statistics.median(new_times),
            "copier": statistics.median(copy_times),
            "target": "speed-up >= 1.0",
        }
        if args.only_new:
            print(results["new"], copy_times, new_times)
            return

        fleet = make_fleet(root, args.fleet, url, env)
        pristine = root / "pristine"
        shutil.copytree(fleet, pristine, symlinks=True)

        def reset_fleet(i):
            shutil.rmtree(fleet)
            shutil.copytree(pristine, fleet, symlinks=True)

        repos = sorted(fleet.iterdir())

        def copier_loop(i):
            return sum(
                timed(copier, "update", "--defaults", "-q", cwd=repo, env=env) for repo in repos
            )

        loop = best_of(args.repeat, reset_fleet, copier_loop)
        ours = best_of(
            args.repeat, reset_fleet, lambda i: timed(tk, "update", fleet, "--jobs", "2", env=env)
        )
        results[f"update x{args.fleet}"] = {"tutorkit": ours, "copier": loop, "target": ">= 5x"}

        trace = root / "trace2.json"
        reset_fleet(0)
        fetches = {
            "tutorkit": template_fetches(tk, "update", fleet, "--jobs", "2", env=env, trace=trace)
        }
        reset_fleet(0)
        fetches["copier"] = sum(
            template_fetches(copier, "update", "--defaults", "-q", cwd=repo, env=env, trace=trace)
            for repo in repos
        )
        results[f"template fetches x{args.fleet}"] = {
            **fetches,
            "target": "tutorkit: 1 per template URL",
            "count": True,
        }

        def copier_two_at_a_time(i):
            """For comparison: `copier update` subprocesses, 2 at a time, one mirror cache each
            (a shared cache makes concurrent copier processes fail)."""

            def one(repo):
                own = {**env, "COPIER_CACHE_DIR": str(root / "caches" / repo.name)}
                run(copier, "update", "--defaults", "-q", cwd=repo, env=own)

            start = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(one, repos))
            return time.perf_counter() - start

        two = best_of(args.repeat, reset_fleet, copier_two_at_a_time)
        results["update (copier -j2)"] = {"tutorkit": ours, "copier": two, "target": "info"}
        reset_fleet(0)

        def check_loop(i):
            return sum(timed(copier, "check-update", cwd=repo, env=env) for repo in repos)

        loop = best_of(args.repeat, lambda i: None, check_loop)

        def tk_status(i):
            start = time.perf_counter()
            proc = subprocess.run([tk, "status", fleet], env=env, capture_output=True, check=False)
            assert proc.returncode == 1, proc.stderr  # every repo is behind
            return time.perf_counter() - start

        ours = best_of(args.repeat, lambda i: None, tk_status)
        results[f"status x{args.fleet}"] = {"tutorkit": ours, "copier": loop, "target": ">= 4x"}

        help_time = best_of(5, lambda i: None, lambda i: timed(tk, "--help", env=env))
        results["--help"] = {"tutorkit": help_time, "copier": None, "target": "< 0.3 s"}

    print(f"{'benchmark':<20} {'tutorkit s':>11} {'copier s':>9} {'speed-up':>9}  target")
    print(f"{'':<20} {'(median)':>11} {'(median)':>9} {'copier/tk':>9}")
    for name, row in results.items():
        if row.get("count"):
            print(f"{name:<20} {row['tutorkit']:>11d} {row['copier']:>9d} {'':>9}  {row['target']}")
            continue
        copier_s = row["copier"]
        speedup = copier_s / row["tutorkit"] if copier_s else None
        row["speedup"] = speedup
        print(
            f"{name:<20} {row['tutorkit']:>11.3f} "
            f"{copier_s if copier_s is not None else float('nan'):>9.3f} "
            f"{speedup if speedup else float('nan'):>8.2f}x  {row['target']}"
        )
    out = CHECKOUT / "benchmarks" / "results" / "cli_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "fleet": args.fleet}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"wrote {out.relative_to(CHECKOUT)}")


if __name__ == "__main__":
    main()
