"""Benchmark `tutorkit adopt` on a 50-notebook repo, and the adopted demo's CI notebook step.

    python benchmarks/adopt_bench.py [--notebooks 50] [--repeat 3]

1. `tutorkit adopt` on a repo of N notebooks (nested folders, names with spaces, a `legacy/`
   folder, its own .gitignore) against `copier copy` of the same infrastructure layout into an
   empty folder (what adopt renders): the ratio is adopt's cost over Copier's.
2. The adopted vision demo of tests/cli/tutorial_repos.py with its notebooks.toml: the CI
   notebook step (`python .github/scripts/notebooks.py ...`, as the rendered workflow runs it)
   against `pytest --nbmake` on the notebooks that step runs.
Prints a table and writes benchmarks/results/adopt_bench.json. Everything runs in a temporary
folder with its own git configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(CHECKOUT / "tests"), str(CHECKOUT / "tests" / "cli")]

from tutorial_repos import GITIGNORE, VISION_POLICY, notebook, vision_repo  # noqa: E402


def run(*cmd, cwd=None, env=None) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def big_repo(root: Path, count: int) -> Path:
    repo = root / "course"
    for i in range(count):
        folder = "legacy" if i % 10 == 9 else f"week {i // 5 + 1}/part {i % 3}"
        code = [f"import torch\nx = torch.ones({i + 1})", "print(x.sum())", "# Notes\nMore text."]
        notebook(repo / folder / f"Lesson {i:02d} (CNNs).ipynb", f"# Lesson {i}", *code)
    (repo / ".gitignore").write_text(GITIGNORE)
    (repo / "README.md").write_bytes(b"\r\n## Deep Learning Course\r\n\r\nFifty lessons.\r\n")
    git(root, "init", "--quiet", str(repo))
    git(repo, "remote", "add", "origin", "https://github.com/ada/course.git")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Course")
    return repo


def adopt_vs_copier(tmp: Path, env: dict, count: int, repeat: int) -> dict:
    adopt, copy = [], []
    for n in range(repeat):
        repo = big_repo(tmp / f"adopt-{n}", count)
        adopt.append(run(sys.executable, "-m", "tutorkit", "adopt", repo, env=env))
        data = ["-d", "layout=infrastructure", "-d", "framework=pytorch"]
        copier = [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", *data]
        copy.append(run(*copier, CHECKOUT, tmp / f"copy-{n}", env=env))
    a, c = statistics.median(adopt), statistics.median(copy)
    return {"notebooks": count, "adopt_s": round(a, 2), "copier_copy_s": round(c, 2),
            "ratio": round(a / c, 2)}  # fmt: skip


def ci_step(tmp: Path, env: dict) -> dict:
    repo = vision_repo(tmp / "demo")
    run(sys.executable, "-m", "tutorkit", "adopt", repo, env=env)
    (repo / "notebooks.toml").write_text(VISION_POLICY)
    script = 'python .github/scripts/notebooks.py . -q --executed "$RUNNER_TEMP/executed"'
    step_env = {
        **env,
        "RUNNER_TEMP": str(tmp),
        "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
    }
    runner = run("bash", "-eo", "pipefail", "-c", script, cwd=repo, env=step_env)
    ran = ["01 Intro/Getting started.ipynb"]  # nbmake cannot inject the smoke parameter
    nbmake = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", *ran,
                 cwd=repo, env=step_env)  # fmt: skip
    return {"ci_step_s": round(runner, 2), "nbmake_one_notebook_s": round(nbmake, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebooks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = tmp / "gitconfig"
        config.write_text(
            "[user]\n\tname = Bench\n\temail = b@x.invalid\n[init]\n\tdefaultBranch = main\n"
        )
        env = {**os.environ, "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1",
               "TUTORKIT_TEMPLATE_URL": "https://github.com/tutorkit/tutorkit.git"}  # fmt: skip
        results = {**adopt_vs_copier(tmp, env, args.notebooks, args.repeat), **ci_step(tmp, env)}
    for key, value in results.items():
        print(f"{key:>24}  {value}")
    out = CHECKOUT / "benchmarks" / "results" / "adopt_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
