"""Run this repo's notebooks as `notebooks.toml` says: one runner for CI, `tutorkit check --run`
and your own pytest.

    python .github/scripts/notebooks.py [PYTEST ARGS...] [--summary FILE] [--executed DIR]

It is pytest with one plugin (this file): every `*.ipynb` under the paths given (default: the
repo) is a test, executed by papermill in a fresh `python3` kernel of the running Python, in
the notebook's own folder. A repo's own `pytest` loads the same plugin when its pytest settings
say `pythonpath = [".github/scripts"]` and `addopts = "-p notebooks"` (the starter's do).
`notebooks.toml` (optional, yours) says per notebook or glob:

    [defaults]
    timeout = 600                 # seconds any one cell may run
    retries = 1                   # re-runs when the kernel dies (never after a real error)

    [[notebook]]
    path = "legacy/*"             # fnmatch on the path from the repo root; `*` crosses folders
    skip = "uses the pre-2.0 API" # never run; the reason is shown in every report

    [[notebook]]
    path = "chapters/*/train*.ipynb"
    parameters = { epochs = 1 }   # injected after the notebook's `parameters` cell (papermill)
    needs = ["gpu", "network", "secret:HF_TOKEN"]

Every entry whose `path` matches applies, later ones over earlier ones. A notebook whose
`needs` this machine lacks is not run here and says why: `gpu` (no `nvidia-smi -L`, unless
NOTEBOOKS_GPU=1), `network` (NOTEBOOKS_OFFLINE=1), `secret:NAME` (the environment variable NAME
is empty, as it is on pull requests from forks, which GitHub gives no secrets). In CI the
secrets come from one repository secret, NOTEBOOK_SECRETS, holding `NAME=value` lines: each
becomes an environment variable of the kernels, masked in the log. With
`--only-needs gpu` only the notebooks that need a GPU run (the GPU job). The summary lists
every notebook: passed, failed (with the cell), skipped (why), not run here (what it needs).

PYTEST_DONT_REWRITE (pytest loads this file as written: it holds no test's assert)
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

POLICY = "notebooks.toml"
KEYS = {"path", "skip", "timeout", "parameters", "needs", "retries"}
MAX_RETRIES = 3


@dataclass
class Policy:
    """What `notebooks.toml` says about one notebook."""

    skip: str = ""
    timeout: int = 600
    retries: int = 1
    parameters: dict = field(default_factory=dict)
    needs: list = field(default_factory=list)


@dataclass
class Outcome:
    notebook: str
    result: str  # passed, failed, skipped, not run here
    detail: str = ""


def read_policy(root: Path) -> tuple[dict, list]:
    """The [defaults] table and the [[notebook]] entries of notebooks.toml (none: no file)."""
    path = root / POLICY
    if not path.is_file():
        return {}, []
    if path.stat().st_size > 1_000_000:
        raise pytest.UsageError(f"{POLICY} is larger than 1 MB: not read")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise pytest.UsageError(f"{POLICY} is not valid TOML: {exc}") from None
    entries = data.get("notebook", [])
    for number, entry in enumerate(entries, 1):
        unknown = set(entry) - KEYS if isinstance(entry, dict) else {"(not a table)"}
        if unknown or not isinstance(entry.get("path"), str):
            raise pytest.UsageError(
                f"{POLICY}: notebook entry {number} needs a `path` and knows only "
                f"{', '.join(sorted(KEYS))} (found {', '.join(sorted(unknown)) or 'no path'})"
            )
    return data.get("defaults", {}), entries


def policy_for(rel: str, defaults: dict, entries: list) -> Policy:
    """The policy of the notebook at ``rel`` (a path from the repo root, with `/`)."""
    settings = dict(defaults)
    for entry in entries:
        if fnmatch.fnmatchcase(rel, entry["path"]):
            settings.update({k: v for k, v in entry.items() if k != "path"})
    policy = Policy(**{k: v for k, v in settings.items() if k in KEYS - {"path"}})
    policy.retries = max(0, min(int(policy.retries), MAX_RETRIES))
    return policy


def has_gpu() -> bool:
    if os.environ.get("NOTEBOOKS_GPU") == "1":
        return True
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def missing(needs: list) -> list[str]:
    """The needs of a notebook that this machine does not meet."""
    lacking = []
    for need in needs:
        if need == "gpu" and not has_gpu():
            lacking.append("gpu")
        elif need == "network" and os.environ.get("NOTEBOOKS_OFFLINE") == "1":
            lacking.append("network")
        elif need.startswith("secret:") and not os.environ.get(need.removeprefix("secret:")):
            lacking.append(f"{need} (empty here; pull requests from forks get no secrets)")
    return lacking


def failure_detail(error: Exception) -> str:
    """Where a notebook failed: the cell and the error, on one line."""
    ename = getattr(error, "ename", "")
    if ename:
        first = (getattr(error, "source", "") or "").strip().splitlines()[:1]
        cell = f"cell In [{error.exec_count}]" + (f" `{first[0][:60]}`" if first else "")
        return f"{cell}: {ename}: {error.evalue}"
    return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"


class NotebookFailed(Exception):
    """A notebook failed: the message names the cell and the error."""


class NotebookItem(pytest.Item):
    def __init__(self, *, rel: str, policy: Policy, **kwargs):
        super().__init__(**kwargs)
        self.rel = rel
        self.policy = policy

    def runtest(self) -> None:
        outcomes = self.config.stash[OUTCOMES]
        why_not = self.why_not_here()
        if why_not:
            outcomes.append(Outcome(self.rel, *why_not))
            pytest.skip(f"{why_not[0]}: {why_not[1]}")
        outcomes.append(self.execute())
        if outcomes[-1].result == "failed":
            raise NotebookFailed(outcomes[-1].detail)

    def why_not_here(self) -> tuple[str, str] | None:
        """("skipped", reason) or ("not run here", what it needs), or None: run it."""
        if self.policy.skip:
            return "skipped", self.policy.skip
        only = self.config.getoption("only_needs")
        if only and only not in self.policy.needs:
            return "not run here", f"runs in the other job (it needs no {only})"
        lacking = missing(self.policy.needs)
        return ("not run here", "needs " + ", ".join(lacking)) if lacking else None

    def execute(self) -> Outcome:
        """Run the notebook with papermill; a dead kernel is retried, a real error is not."""
        from nbclient.exceptions import DeadKernelError

        start = time.monotonic()
        for attempt in range(self.policy.retries + 1):
            try:
                self.papermill()
            except DeadKernelError as error:
                detail = f"the kernel died ({error}) in {attempt + 1} attempt(s)"
                continue
            except Exception as error:  # noqa: BLE001  (papermill and nbclient raise many kinds)
                return Outcome(self.rel, "failed", failure_detail(error))
            retried = f", after {attempt} kernel death(s)" if attempt else ""
            return Outcome(self.rel, "passed", f"{time.monotonic() - start:.1f} s{retried}")
        return Outcome(self.rel, "failed", detail)

    def papermill(self) -> None:
        import papermill

        executed = self.config.stash[EXECUTED] / self.rel
        executed.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(self.path),
            str(executed),
            parameters=self.policy.parameters,
            kernel_name="python3",
            language="python",
            cwd=str(self.path.parent),
            execution_timeout=int(self.policy.timeout),
            progress_bar=False,
        )

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NotebookFailed):
            return f"{self.rel}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, self.rel


class NotebookFile(pytest.File):
    def collect(self):
        root = Path(self.config.rootpath)
        rel = self.path.relative_to(root).as_posix()
        defaults, entries = self.config.stash[POLICIES]
        yield NotebookItem.from_parent(
            self, name=self.path.name, rel=rel, policy=policy_for(rel, defaults, entries)
        )


OUTCOMES = pytest.StashKey[list]()
EXECUTED = pytest.StashKey[Path]()
POLICIES = pytest.StashKey[tuple]()


def pytest_addoption(parser):
    group = parser.getgroup("notebooks", "notebooks run as notebooks.toml says")
    group.addoption("--summary", default="", help="append the summary (Markdown) to this file")
    group.addoption(
        "--executed",
        default="",
        help="write the executed notebooks under this folder (default: a new temporary one)",
    )
    group.addoption("--only-needs", default="", help="run only the notebooks that need this")


def load_secrets(text: str) -> None:
    """NOTEBOOK_SECRETS (`NAME=value` lines) into the environment, each value masked in the
    GitHub Actions log (the `add-mask` workflow command)."""
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if not sep or not name.isidentifier() or name in os.environ:
            continue
        if os.environ.get("GITHUB_ACTIONS") == "true" and value:
            print(f"::add-mask::{value}", flush=True)
        os.environ[name] = value


def pytest_configure(config):
    load_secrets(os.environ.pop("NOTEBOOK_SECRETS", ""))
    config.stash[OUTCOMES] = []
    executed = config.getoption("executed")
    config.stash[EXECUTED] = Path(executed or tempfile.mkdtemp(prefix="executed-notebooks-"))
    config.stash[POLICIES] = read_policy(Path(config.rootpath))


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb":
        return NotebookFile.from_parent(parent, path=file_path)
    return None


def cell(text: str) -> str:
    """``text`` as one cell of a Markdown table: one line, no column break."""
    return " ".join(text.split()).replace("|", "\\|")


def summary(outcomes: list[Outcome]) -> str:
    rows = [f"| `{o.notebook}` | {o.result} | {cell(o.detail)} |" for o in outcomes]
    counts = {
        r: sum(o.result == r for o in outcomes) for r in dict.fromkeys(o.result for o in outcomes)
    }
    total = ", ".join(f"{n} {result}" for result, n in counts.items()) or "no notebook"
    head = ["## Notebooks", "", total, "", "| notebook | result | detail |", "| --- | --- | --- |"]
    return "\n".join(head + rows) + "\n"


def pytest_terminal_summary(terminalreporter, config):
    outcomes = sorted(config.stash[OUTCOMES], key=lambda o: o.notebook)
    text = summary(outcomes)
    terminalreporter.write_line("")
    for line in text.splitlines():
        terminalreporter.write_line(line)
    if config.getoption("summary"):
        with open(config.getoption("summary"), "a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    # This file is the plugin, loaded by its name, `notebooks`, as a repo's pytest settings may
    # load it too (the starter's pyproject.toml): one plugin either way. No .pytest_cache in
    # the repo: a run leaves the working tree as it found it.
    # Given as a plugin to pytest.main, it is registered before pytest reads the command line,
    # whose options (--summary FILE) it then knows.
    sys.modules["notebooks"] = sys.modules[__name__]
    args = ["-p", "no:cacheprovider", *sys.argv[1:]]
    sys.exit(pytest.main(args, plugins=["notebooks"]))
