"""Benchmark the fleet dashboard: `tutorkit status --github --html` on a fleet of 200 repos.

    python benchmarks/dashboard_bench.py [--fleet 200] [--latency 0.05] [--repeat 1]

GitHub is the tests' local stand-in (tests/github_server.py: GitHub's paths and field names,
artifacts behind a 302), serving a fleet in mixed states (`mixed_fleet`), answering each API
request after ``--latency`` seconds (a round trip to api.github.com; 0 measures tutorkit
alone). The repos are one `tutorkit new` repo copied ``--fleet`` times.

Measured: API calls per repo (what the token's REST rate limit counts, 5,000 an hour for a
user's token; the artifact downloads' second leg goes to storage, not the API, and is counted
apart), the wall time of `status --github` and of `status --github --html` (the dashboard), as a
ratio, and the page's rendering alone. Prints a table and writes
benchmarks/results/dashboard_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(CHECKOUT / "tests"), str(CHECKOUT / "benchmarks")]

from cli_bench import BIN, make_template, run  # noqa: E402
from github_server import TOKEN, FakeGitHub, mixed_fleet  # noqa: E402

RATE_LIMIT = 5000  # REST requests an hour for a personal access token (GitHub's docs)


def make_fleet(root: Path, size: int, env: dict) -> list[str]:
    fleet = root / "fleet"
    first = fleet / "tutorial-000"
    run(BIN / "tutorkit", "new", first, "--defaults", env=env)
    slugs = []
    for index in range(size):
        repo = fleet / f"tutorial-{index:03d}"
        if index:
            shutil.copytree(first, repo, symlinks=True)
            run(
                "git",
                "remote",
                "set-url",
                "origin",
                f"https://github.com/ada/{repo.name}",
                cwd=repo,
            )
        else:
            run("git", "remote", "add", "origin", f"https://github.com/ada/{repo.name}", cwd=repo)
        slugs.append(f"ada/{repo.name}")
    return slugs


def measure(root: Path, slugs: list[str], env: dict, latency: float, *options: str) -> dict:
    repos, _ = mixed_fleet(slugs)
    with FakeGitHub(repos, delay=latency) as server:
        start = time.perf_counter()
        proc = subprocess.run(
            [BIN / "tutorkit", "status", root / "fleet", "--github", *options],
            env={**env, "GITHUB_API_URL": server.url, "GH_TOKEN": TOKEN},
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    api = [r for r in server.requests if r[1].startswith("/repos/")]
    storage = [r for r in server.requests if r[1].startswith("/_blobs/")]
    return {
        "seconds": round(seconds, 2),
        "api_calls": len(api),
        "api_calls_per_repo": round(len(api) / len(slugs), 2),
        "storage_downloads": len(storage),
        "runs_per_hour_within_rate_limit": RATE_LIMIT // max(1, len(api)),
    }


def render_time(page_dir: Path, repeat: int = 5) -> float:
    from tutorkit.dashboard import render

    rows = json.loads((page_dir / "status.json").read_text())
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        render(rows)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="tutorkit-dashboard-bench-") as tmp:
        root = Path(tmp)
        gitconfig = root / "gitconfig"
        gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@tutorkit.invalid\n")
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "COPIER_CACHE_DIR": str(root / "copier-cache"),
        }
        env["TUTORKIT_TEMPLATE_URL"] = make_template(root, env)
        slugs = make_fleet(root, args.fleet, env)
        for latency in sorted({0.0, args.latency}):
            key = f"latency {latency * 1000:.0f} ms"
            plain = measure(root, slugs, env, latency)
            page = measure(root, slugs, env, latency, "--html", str(root / "site"))
            results[key] = {
                "status --github": plain,
                "status --github --html": page,
                "ratio html/plain": round(page["seconds"] / plain["seconds"], 2),
            }
        results["render only (s)"] = round(render_time(root / "site"), 3)
        results["page bytes"] = (root / "site" / "index.html").stat().st_size
    print(json.dumps(results, indent=2))
    out = CHECKOUT / "benchmarks" / "results" / "dashboard_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "fleet": args.fleet}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"wrote {out.relative_to(CHECKOUT)}")


if __name__ == "__main__":
    main()
