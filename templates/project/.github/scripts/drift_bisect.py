"""Name the upgrade that breaks the tests and notebooks (the dependency-drift canary's bisection).

    python .github/scripts/drift_bisect.py requirements.lock --uv UV [--allow NAME ...]
        [--junit JUNIT_XML] [--max-trials 12] [--minutes 40] -- COMMAND ...

Run where the newest releases are installed and COMMAND (the tests and notebooks) failed on
them (--junit: that run's report). requirements.lock is known good (CI proved it), the newest
releases known bad. The upgrades between them (each package of the lock whose installed release
differs) are tried in parts (delta debugging): a trial resolves the lock with just that part at
its newest releases (`uv pip compile`, with `--exclude-newer` the moment the script started, for
every trial; the lock's other versions are preferred, so a package moves only when an upgrade
needs it), installs that resolution with pip (hash-checked, `--no-deps`; what it does not name
is uninstalled, except --allow), runs COMMAND with `--junitxml` added, and goes on into the part
that fails. It ends at the smallest set of upgrades that fails: normally one package, or
packages that fail only together.

The first trial is the lock itself: when it fails as well, no newer release is to blame, and
the script says so. At most --max-trials trials are made, and none is started that would end
after --minutes (judged by the slowest trial so far); then the smallest failing set found so far
is reported. The report (markdown) is printed and written as the step output `culprit` and to
the job summary; the exit status is 0 when it reports.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from job_report import failed_tests
from lock_check import ALWAYS_ALLOWED, locked_versions, normalized

INDEX_OPTION = re.compile(r"^\s*(--extra-index-url|--index-url|--find-links)[\s=]+(\S+)\s*$")


def index_lines(text: str) -> list[str]:
    """The lock's index options (PyTorch's CPU index), one a line, as pip and uv read them."""
    found = (INDEX_OPTION.match(line) for line in text.splitlines())
    return [f"{option[1]} {option[2]}" for option in found if option]


def own_distributions() -> dict[str, str]:
    """Name -> version of what is installed in this Python's own site-packages."""
    folders = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    found = {}
    for dist in metadata.distributions():
        where = Path(str(dist.locate_file(""))).resolve()
        if where in folders:
            found[normalized(dist.metadata["Name"])] = dist.version
    return found


def upgrades(locked: dict[str, str], installed: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each locked package whose installed release differs: name -> (locked, installed)."""
    found = {}
    for name, version in sorted(locked.items()):
        newest = installed.get(name)
        if newest and newest.split("+")[0] != version.split("+")[0]:
            found[name] = (version, newest)
    return found


@dataclass
class Trial:
    number: int
    upgraded: frozenset
    outcome: str  # passes, fails, does not resolve, does not install
    moved: dict = field(default_factory=dict)  # name -> (locked, trial) beyond `upgraded`
    failed: list = field(default_factory=list)
    minutes: float = 0.0


class OutOfTrials(Exception):
    """The trial bound or the time budget is reached."""


class Trials:
    """Resolve, install and test one set of upgrades at a time (each set once)."""

    def __init__(self, args: argparse.Namespace, lock_text: str, changes: dict, work: Path):
        self.args, self.lock_text, self.changes, self.work = args, lock_text, changes, work
        self.locked = locked_versions(lock_text)
        self.allowed = ALWAYS_ALLOWED | {normalized(name) for name in args.allow}
        self.cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.started, self.slowest = time.monotonic(), 0.0
        self.done: dict[frozenset, Trial] = {}
        failed = failed_tests(Path(args.junit)) if args.junit else []
        self.whole = Trial(0, frozenset(changes), "fails", failed=failed)  # the run that failed

    def fails(self, upgraded: frozenset) -> bool:
        if upgraded == self.whole.upgraded:
            return True
        if upgraded not in self.done:
            self.check_budget()
            self.done[upgraded] = self.trial(upgraded)
        return self.done[upgraded].outcome == "fails"

    def check_budget(self) -> None:
        if len(self.done) >= self.args.max_trials:
            raise OutOfTrials(f"the bound (--max-trials {self.args.max_trials}) is reached")
        elapsed = time.monotonic() - self.started
        if self.done and elapsed + self.slowest > self.args.minutes * 60:
            budget = f"--minutes {self.args.minutes:g}"
            raise OutOfTrials(f"another trial would end past the budget ({budget})")

    def trial(self, upgraded: frozenset) -> Trial:
        number, start = len(self.done) + 1, time.monotonic()
        names = ", ".join(f"`{name}`" for name in sorted(upgraded)) or "nothing"
        print(f"::group::Trial {number}: the lock, {names} upgraded", flush=True)
        path = self.work / f"trial-{number}.txt"
        why = self.resolve(upgraded, path)
        if why:
            result = Trial(number, upgraded, f"does not resolve ({why})")
        elif not self.install(path):
            result = Trial(number, upgraded, "does not install")
        else:
            result = self.run_suite(number, upgraded)
        if not why:
            result.moved = self.moved(locked_versions(path.read_text()), upgraded)
        result.minutes = (time.monotonic() - start) / 60
        self.slowest = max(self.slowest, time.monotonic() - start)
        print(f"::endgroup::\nTrial {number} ({names}): {result.outcome}", flush=True)
        return result

    def resolve(self, upgraded: frozenset, path: Path) -> str:
        """Write the trial's lock to ``path``; uv's reason when it cannot ("" when it can)."""
        path.write_text(self.lock_text, encoding="utf-8")  # the versions uv prefers
        wanted = self.work / "wanted.txt"
        wanted.write_text("".join(f"{x}\n" for x in index_lines(self.lock_text) + [*self.locked]))
        constraints = self.work / "upgrades.txt"
        constraints.write_text("".join(f"{n}=={self.changes[n][1]}\n" for n in sorted(upgraded)))
        command = [self.args.uv, "pip", "compile", str(wanted), "-o", str(path), "--quiet"]
        command += ["-c", str(constraints), "--generate-hashes", "--no-annotate", "--no-header"]
        command += ["--exclude-newer", self.cutoff, "--python", sys.executable]
        command += ["--index-strategy", "unsafe-best-match"]
        command += [arg for name in sorted(upgraded) for arg in ("--upgrade-package", name)]
        print("$ " + " ".join(command), flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return " ".join(done.stderr.split())[-300:]
        text = "".join(f"{line}\n" for line in index_lines(self.lock_text)) + path.read_text()
        path.write_text(text, encoding="utf-8")
        return ""

    def install(self, path: Path) -> bool:
        """pip installs the trial's lock; what it does not name leaves this environment."""
        pip = [sys.executable, "-m", "pip"]
        done = subprocess.run([*pip, "install", "--no-deps", "--require-hashes", "-r", str(path)])
        if done.returncode != 0:
            return False
        extra = sorted(
            set(own_distributions()) - set(locked_versions(path.read_text())) - self.allowed
        )
        if not extra:
            return True
        return subprocess.run([*pip, "uninstall", "--yes", *extra]).returncode == 0

    def run_suite(self, number: int, upgraded: frozenset) -> Trial:
        junit = self.work / f"trial-{number}.xml"
        done = subprocess.run([*self.args.command, f"--junitxml={junit}"], check=False)
        if done.returncode == 0:
            return Trial(number, upgraded, "passes")
        return Trial(number, upgraded, "fails", failed=failed_tests(junit))

    def moved(self, found: dict, upgraded: frozenset) -> dict:
        """What the trial's resolution moved beyond the upgrades asked for."""
        moved = {}
        for name, version in found.items():
            if name not in upgraded and self.locked.get(name) != version:
                moved[name] = (self.locked.get(name, "none"), version)
        return moved


def narrow(changes: list[str], fails, kept: tuple = ()) -> list[str]:
    """The upgrades of ``changes`` that make ``kept`` (which passes) fail, when ``kept`` and all
    of ``changes`` fail: delta debugging in halves. Into the half that fails alone; when neither
    does, two upgrades break only together: each half is searched with the other applied."""
    if len(changes) <= 1:
        return changes
    middle = (len(changes) + 1) // 2
    first, second = changes[:middle], changes[middle:]
    if fails(frozenset([*kept, *first])):
        return narrow(first, fails, kept)
    if fails(frozenset([*kept, *second])):
        return narrow(second, fails, kept)
    return narrow(first, fails, (*kept, *second)) + narrow(second, fails, (*kept, *first))


def describe(names, changes: dict, moved: dict) -> str:
    upgraded = " and ".join(f"`{n}` {changes[n][0]} -> {changes[n][1]}" for n in sorted(names))
    if moved:
        also = ", ".join(f"`{n}` {old} -> {new}" for n, (old, new) in sorted(moved.items()))
        upgraded += f" (which moves {also} with it)"
    return upgraded


def verdict(trials: Trials, culprit: list[str], stopped: str) -> str:
    """The report's first line: which upgrade breaks which tests and notebooks."""
    trial = trials.done.get(frozenset(culprit)) or trials.whole
    if trial.upgraded != frozenset(culprit):
        trial = Trial(0, frozenset(culprit), "fails")  # never tried as it is
    what = describe(culprit, trials.changes, trial.moved)
    failed = ", ".join(f"`{test}`" for test in trial.failed)
    named = failed or "the tests and notebooks named above"
    if stopped:
        return f"Narrowed to {what}, which break {named}; the search stopped: {stopped}."
    if trial.outcome != "fails":
        return f"Narrowed to {what}, which pass together: the break needs more of the upgrades."
    if len(culprit) == 1:
        return f"{what} breaks {named}."
    return f"{what} break {named} together (no one of them alone does)."


def trial_lines(trials: Trials) -> list[str]:
    lines = []
    for trial in trials.done.values():
        outcome = trial.outcome
        if trial.failed:
            outcome += ": " + ", ".join(f"`{test}`" for test in trial.failed)
        names = describe(trial.upgraded, trials.changes, trial.moved)
        what = f"upgraded {names}" if trial.upgraded else "the lock itself"
        lines.append(f"{trial.number}. {what}: {outcome} ({trial.minutes:.1f} min)")
    return lines


def report(trials: Trials, culprit: list[str] | None, stopped: str) -> list[str]:
    if culprit is None:
        lines = ["The lock itself fails here too: no newer release is to blame (see the run)."]
    else:
        lines = [verdict(trials, culprit, stopped)]
    bound = f"{trials.args.max_trials} trials, {trials.args.minutes:g} minutes"
    lines += [
        "",
        f"Trials ({len(trials.done)}; at most {bound}); each is the lock with those upgrades, "
        f"resolved with uv as of {trials.cutoff} and installed with pip:",
        "",
        *trial_lines(trials),
    ]
    return lines


def bisect(trials: Trials) -> list[str]:
    """The report: the lock first (it must pass), then the narrowing."""
    changes = list(trials.changes)
    try:
        if trials.fails(frozenset()):
            return report(trials, None, "")
        culprit = narrow(changes, trials.fails)
        trials.fails(frozenset(culprit))  # upgrades found apart are tried together
        return report(trials, culprit, "")
    except OutOfTrials as why:
        failing = [t.upgraded for t in trials.done.values() if t.outcome == "fails"]
        smallest = sorted(min(failing, key=len)) if failing else changes
        return report(trials, smallest, str(why))


def write(lines: list[str]) -> None:
    text = "\n".join(lines)
    print(text)
    if os.environ.get("GITHUB_OUTPUT"):
        delimiter = f"EOF-{uuid.uuid4().hex}"
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"culprit<<{delimiter}\n{text}\n{delimiter}\n")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(f"### The upgrade that breaks the tests and notebooks\n\n{text}\n\n")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", help="the lock the tests passed on (requirements.lock)")
    parser.add_argument("--uv", required=True, help="the uv executable")
    parser.add_argument("--allow", action="append", default=[], help="a package not locked")
    parser.add_argument("--junit", help="the JUnit report of the run that failed")
    parser.add_argument("--max-trials", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=40)
    parser.add_argument("command", nargs="+", help="the tests and notebooks, after --")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    lock_text = Path(args.lock).read_text(encoding="utf-8")
    changes = upgrades(locked_versions(lock_text), own_distributions())
    if not changes:
        write(["No package of the lock is at another release here: nothing to bisect."])
        return 0
    with tempfile.TemporaryDirectory(dir=os.environ.get("RUNNER_TEMP")) as work:
        write(bisect(Trials(args, lock_text, changes, Path(work))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
