"""Hostile templates, repos and servers: nothing runs, nothing escapes the repo, no secret leaks.

The threat model is docs/guarantees.md's: the user and their machine are trusted; templates (any
URL an answers file names), everything in a repo, GitHub's answers and the package index are not.
Each case builds its hostile input itself (a fork of the template with a poisoned release, a repo
with a symbolic link or a booby-trapped git configuration, a server that redirects or drips one
byte a second), runs the real CLI in a fresh interpreter, and asserts what the issue asks of
every case:

- the command exits non-zero with one sentence, or completes correctly;
- no file outside the repo (a canary folder holding a secret) and none under ``.git`` changed:
  every file is hashed before and after, ignored ones included;
- no secret (a token, the canary's secret) in stdout or stderr;
- the wall time stays bounded: every run has a timeout, and a hang fails the test.

The GitHub cases use small HTTP servers on 127.0.0.1 written here (a second port stands for
"another host"); their payloads use GitHub's documented field names where tutorkit reads any.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from cli_support import NEW, NOTEBOOK, OLD, commit_all, tk_subprocess
from support import git

SECRET = "s3cr3t-canary-8d1f0c"
TOKEN = "ghp_" + "Z" * 36  # looks like a GitHub token: must never be printed
BOUND = 120  # seconds: a run past this is a hang


def tutorkit(*args, env: dict | None = None, timeout: float = BOUND):
    """The CLI as a user runs it (a fresh interpreter), bounded in time."""
    return tk_subprocess(*args, env=env, timeout=timeout)


def everything(root: Path) -> dict[str, str]:
    """Every file under ``root`` (``.git`` and ignored files included, links as their target),
    by sha256. Left out: git's own bookkeeping that a read refreshes (the index's stat cache,
    logs, the repo lock of ``.git/tutorkit``) and ``.git/objects``, whose files are named by
    their content (none can change without a new name; an interrupted run may leave unreachable
    ones for git gc, as any interrupted git command does)."""
    found = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        bookkeeping = rel.startswith((".git/tutorkit", ".git/logs", ".git/objects/"))
        if bookkeeping or rel in (".git/index", ".git/ORIG_HEAD"):
            continue
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def update(*args, env: dict | None = None) -> tuple[subprocess.CompletedProcess, str]:
    """`tutorkit update --json ARGS`: the process, and every reason and file detail it gave
    (the table folds long lines; the JSON does not)."""
    import json

    proc = tutorkit("update", *args, "--json", env=env)
    said = [
        text
        for result in json.loads(proc.stdout or "[]")
        for text in [
            result["reason"],
            *result["notes"],
            *(f.get("detail", "") for f in result["files"]),
        ]
    ]
    return proc, "\n".join(said)


def one_sentence(proc: subprocess.CompletedProcess) -> str:
    """The error line of a refused command: one line, no traceback, no secret."""
    assert "Traceback" not in proc.stderr + proc.stdout
    no_secrets(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def no_secrets(proc: subprocess.CompletedProcess) -> None:
    for secret in (SECRET, TOKEN):
        assert secret not in proc.stdout + proc.stderr


@pytest.fixture
def canary(tmp_path) -> Path:
    """A folder outside every repo, holding a secret: nothing may change or read it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET + "\n")
    return folder


@contextmanager
def untouched(*roots: Path):
    """Nothing under ``roots`` changes inside the block."""
    before = {root: everything(root) for root in roots}
    yield
    for root in roots:
        assert everything(root) == before[root], f"{root} changed"


def git_dir_only(repo: Path) -> dict[str, str]:
    return {k: v for k, v in everything(repo).items() if k.startswith(".git/")}


@pytest.fixture
def fork(tmp_path, template, make_repo) -> Callable:
    """A repo of the fleet whose answers file names a fork of the template (as a merged pull
    request could), whose release v9.0.0 is what ``poison`` makes of v1.0.0."""

    def make(poison: Callable[[Path], None], name: str = "repo") -> Path:
        clone = tmp_path / f"fork-of-{name}"
        git(tmp_path, "clone", "--quiet", template.removeprefix("file://"), str(clone))
        git(clone, "checkout", "--quiet", OLD)
        poison(clone)
        commit_all(clone, "A poisoned release")
        git(clone, "tag", "v9.0.0")
        repo = make_repo(name)
        point_at(repo, f"file://{clone}")
        return repo

    return make


def point_at(repo: Path, src: str) -> None:
    answers = repo / ".copier-answers.yml"
    text = re.sub(r"^_src_path: .*$", f"_src_path: {src}", answers.read_text(), flags=re.M)
    answers.write_text(text)
    commit_all(repo, "Take the template from elsewhere")


def add_skip_pattern(template: Path, pattern: str) -> None:
    config = template / "copier.yml"
    text = config.read_text()
    config.write_text(text.replace("_skip_if_exists:\n", f"_skip_if_exists:\n  - {pattern}\n", 1))


# --- templates ----------------------------------------------------------------------------------


def test_a_template_pattern_cannot_run_code(fork, canary, tmp_path):
    """`_skip_if_exists` patterns are rendered in a sandbox: an attribute chain to `os.system`
    is refused (even under --dry-run), never run."""
    pwned = canary / "pwned"
    payload = f"\"{{{{ cycler.__init__.__globals__.os.system('touch {pwned}') }}}}\""
    repo = fork(lambda t: add_skip_pattern(t, payload))
    with untouched(repo, canary):
        for args in (["--dry-run"], []):
            proc, said = update(repo, *args)
            assert proc.returncode == 1
            no_secrets(proc)
            assert "refused by the sandbox" in said
    assert not pwned.exists()


def test_a_template_cannot_write_under_git(fork, canary):
    """A template folder named `{{ '.git' }}` would plant an executable hook: refused, naming
    the path; nothing under .git changes, and the next commit runs nothing."""

    def plant_hook(template: Path) -> None:
        hooks = template / "templates" / "project" / "{{ '.git' }}" / "hooks"
        hooks.mkdir(parents=True)
        hook = hooks / "post-commit"
        hook.write_text(f"#!/bin/sh\ntouch {canary / 'pwned'}\n")
        hook.chmod(0o755)

    repo = fork(plant_hook)
    with untouched(repo, canary):
        proc, said = update(repo)
    assert proc.returncode == 1
    assert ".git/hooks/post-commit is under .git" in said
    git(repo, "commit", "--allow-empty", "--quiet", "-m", "the author's next commit")
    assert not (canary / "pwned").exists()


@pytest.mark.parametrize(
    "branch",
    [False, pytest.param(True, marks=pytest.mark.slow)],  # the fast suite keeps one of the two
    ids=["in-place", "branch"],
)
def test_a_symlinked_folder_never_leads_writes_outside(make_repo, canary, branch):
    """A committed `.github/workflows -> /elsewhere`: the update (in place or on a branch) is
    refused, naming the path; the folder it points at and the repo stay as they were."""
    repo = make_repo()
    elsewhere = canary / "workflows"
    (repo / ".github" / "workflows").rename(elsewhere)
    (repo / ".github" / "workflows").symlink_to(elsewhere)
    commit_all(repo, "Workflows live elsewhere")
    args = ["--branch", "template-update"] if branch else []
    with untouched(repo, canary):
        proc, said = update(repo, *args)
    assert proc.returncode == 1
    assert "through .github/workflows, a symbolic link in the repo" in said
    assert "template-update" not in git(repo, "branch", "--list")


@pytest.mark.slow  # a second link case; the fast suite keeps the rendered one
def test_a_template_cannot_copy_a_file_of_this_machine_into_the_repo(fork, canary):
    """A symbolic link in a template release is refused (a link out of the template when the
    release is extracted; any other when Copier renders it): its target's bytes never reach the
    repo or the output."""

    def links(template: Path) -> None:
        config = template / "copier.yml"
        config.write_text(config.read_text() + "_preserve_symlinks: true\n")
        project = template / "templates" / "project"
        (project / "inside-link").symlink_to("README.md.jinja")
        (project / "stolen.txt").symlink_to(canary / "secret.txt")

    repo = fork(links)
    with untouched(repo, canary):
        proc = tutorkit("update", repo)
    assert proc.returncode == 1
    no_secrets(proc)
    assert "Traceback" not in proc.stderr


def test_a_rendered_link_is_refused_by_name(fork, canary):
    """A link that stays inside the template survives extraction; Copier renders it as a link,
    and tutorkit refuses it by name instead of reading through it."""

    def link(template: Path) -> None:
        config = template / "copier.yml"
        config.write_text(config.read_text() + "_preserve_symlinks: true\n")
        (template / "templates" / "project" / "inside-link").symlink_to("README.md.jinja")

    repo = fork(link)
    with untouched(repo, canary):
        proc, said = update(repo)
    assert proc.returncode == 1
    assert "renders inside-link as a symbolic link" in said


# --- repos and answers files ---------------------------------------------------------------------


def test_a_notebook_that_lies_about_its_version_is_a_conflict_not_an_empty_notebook(make_repo):
    """The author's notebook says nbformat 3 while its cells are nbformat 4's: converting it
    would empty it. It is a conflict: the author's bytes stay, the template's are in the index."""
    import json

    repo = make_repo()
    path = repo / NOTEBOOK
    notebook = json.loads(path.read_text())
    cells = len(notebook["cells"])
    notebook["nbformat"], notebook["cells"][-1]["source"] = 3, "# the author's own last cell\n"
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    commit_all(repo, "An old header")
    before = path.read_bytes()
    proc, said = update(repo, "--to", NEW)
    assert proc.returncode == 1, proc.stdout
    assert "not a valid nbformat 4 notebook" in said
    assert path.read_bytes() == before
    assert len(json.loads(path.read_text())["cells"]) == cells
    assert "3\t" + NOTEBOOK in git(repo, "ls-files", "--stage", "--", NOTEBOOK).replace(" ", "\t")


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 9):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once(make_repo):
    """1 KB of YAML aliases that expands to 387 million strings: refused in one sentence, in
    status and in a fleet worker alike, not expanded (no MemoryError, no half-minute stall)."""
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text() + alias_bomb())
    commit_all(repo, "A bomb")
    for args in (["status", repo, "--json"], ["update", repo, "--jobs", "2", "--json"]):
        start = time.monotonic()
        proc = tutorkit(*args, timeout=60)
        assert time.monotonic() - start < 30
        assert proc.returncode == 1
        assert "expands to more than 100,000 values through YAML aliases" in proc.stdout
        assert "MemoryError" not in proc.stdout + proc.stderr


@pytest.mark.slow  # updates a fleet of two
def test_a_huge_template_url_is_that_repos_refusal_not_the_fleets(make_repo):
    """A 140,000-character `_src_path` would not fit git's command line: that repo is refused,
    the rest of the fleet is updated."""
    bad, good = make_repo("bad"), make_repo("good")
    point_at(bad, "https://example.org/" + "x" * 140_000)
    proc = tutorkit("update", make_repo.fleet, "--to", NEW, "--json")
    assert proc.returncode == 1
    assert "Argument list too long" not in proc.stdout + proc.stderr
    assert "140,020 characters long" in proc.stdout
    assert yaml.safe_load((good / ".copier-answers.yml").read_text())["_commit"] == NEW


@pytest.mark.parametrize(
    "package",
    ["../..", *(pytest.param(p, marks=pytest.mark.slow) for p in ("/etc", "src/../../x"))],
)
def test_a_package_name_that_leaves_the_repo_is_refused(make_repo, canary, package):
    """`package_name: ../..` in an answers file: the template's own validator refuses it, and
    nothing outside the repo is read or written."""
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    text = re.sub(
        r"^package_name: .*$", f"package_name: {package}", answers.read_text(), flags=re.M
    )
    answers.write_text(text)
    commit_all(repo, "A package outside")
    with untouched(repo, canary):
        proc, said = update(repo, "--to", NEW)
    assert proc.returncode == 1
    assert "is not a valid Python package name" in said
    assert "Traceback" not in proc.stderr


def test_a_crlf_checkout_without_edits_updates_without_conflicts(pristine, tmp_path):
    """A checkout with `core.autocrlf=true` (every file CRLF in the working tree, none edited):
    the update has no conflicts, and the files it writes keep CRLF, byte for byte."""
    repo = tmp_path / "crlf"
    git(tmp_path, "clone", "--quiet", "-c", "core.autocrlf=true", str(pristine), str(repo))
    engine = next((repo / "src").glob("*/engine.py"))
    assert b"\r\n" in engine.read_bytes()
    proc = tutorkit("update", repo, "--to", NEW)
    assert proc.returncode == 0, proc.stdout
    assert "conflict" not in proc.stdout
    text = engine.read_bytes()
    assert b"Template v1.1.0 was here." in text
    assert text.count(b"\r\n") == text.count(b"\n")


def test_adopt_badge_keeps_crlf_and_latin1_bytes(tmp_path):
    """`adopt --badge` inserts one line and keeps every other byte: CRLF line endings and a
    README that is not UTF-8."""
    for name, readme in (
        ("crlf", b"# Digits\r\n\r\nA tutorial.\r\n"),
        ("latin1", b"# Caf\xe9 tutorial\n\nD\xe9j\xe0 vu.\n"),
    ):
        repo = tmp_path / name
        (repo / "notebooks").mkdir(parents=True)
        (repo / "README.md").write_bytes(readme)
        (repo / "notebooks" / "train.py").write_text("import torch\n")
        git(repo, "init", "--quiet")
        commit_all(repo, "A tutorial")
        proc = tutorkit("adopt", repo, "--badge", "--data", "github_owner=ada")
        assert proc.returncode == 0, proc.stderr
        after = (repo / "README.md").read_bytes()
        newline = b"\r\n" if name == "crlf" else b"\n"
        heading, rest = readme.split(newline, 1)
        badge = re.search(rb"\[!\[notebooks\].*?\)\]\(.*?\)", after)[0]
        assert after == heading + newline + newline + badge + newline + rest


def test_an_update_refuses_a_repo_in_the_middle_of_a_rebase(make_repo):
    """A rebase stopped on a conflict: the update refuses, naming it; nothing changes."""
    repo = make_repo()
    readme = repo / "README.md"
    git(repo, "checkout", "--quiet", "-b", "side")
    readme.write_text("side\n")
    commit_all(repo, "side")
    git(repo, "checkout", "--quiet", "-")
    readme.write_text("main\n")
    commit_all(repo, "main")
    subprocess.run(["git", "rebase", "side"], cwd=repo, capture_output=True, check=False)
    assert (repo / ".git" / "rebase-merge").is_dir()
    with untouched(repo):
        proc, said = update(repo, "--to", NEW)
    assert proc.returncode == 1
    assert "in the middle of a rebase" in said


@pytest.mark.parametrize(
    "marker, operation",
    [
        ("MERGE_HEAD", "a merge"),
        *(
            pytest.param(*case, marks=pytest.mark.slow)  # the fast suite keeps the merge
            for case in (
                ("CHERRY_PICK_HEAD", "a cherry-pick"),
                ("REVERT_HEAD", "a revert"),
                ("BISECT_LOG", "a bisect"),
                ("rebase-apply", "a rebase or git am"),
            )
        ),
    ],
)
def test_an_update_refuses_any_git_operation_in_progress(make_repo, marker, operation):
    """The other operations git leaves half-done, by the file git keeps for each."""
    repo = make_repo()
    (repo / ".git" / marker).write_text("")
    with untouched(repo):
        proc, said = update(repo, "--to", NEW)
    assert proc.returncode == 1
    assert f"in the middle of {operation}" in said


@pytest.mark.slow  # a whole update; the fast suite keeps the rebase refusal
def test_git_variables_from_a_hook_do_not_redirect_the_update(make_repo):
    """Run from a git hook, tutorkit inherits GIT_DIR (and friends) pointing at another repo:
    it updates the repo it was given and leaves the other one alone."""
    repo, other = make_repo("repo"), make_repo("other")
    env = {"GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other)}
    with untouched(other):
        proc = tutorkit("update", repo, "--to", NEW, env=env)
    assert proc.returncode == 0, proc.stdout
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEW
    assert not (other / ".git" / "tutorkit").exists()


def test_hooks_and_fsmonitor_of_a_repo_never_run(tmp_path, canary):
    """A repo whose git configuration names commands (a post-commit hook, core.fsmonitor):
    adopt commits and status reads it, and neither command runs."""
    repo = tmp_path / "tutorial"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "train.py").write_text("import torch\n")
    (repo / "README.md").write_text("# A tutorial\n")
    git(repo, "init", "--quiet")
    commit_all(repo, "A tutorial")
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(f"#!/bin/sh\ntouch {canary / 'hook-ran'}\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", f"touch {canary / 'fsmonitor-ran'}; false")
    assert tutorkit("adopt", repo).returncode == 0
    tutorkit("status", repo)
    assert sorted(p.name for p in canary.iterdir()) == ["secret.txt"]


def test_control_characters_in_names_are_printed_escaped(make_repo, tmp_path):
    """A repo folder whose name holds terminal escape sequences: printed as `\\x1b`, never raw."""
    fleet = tmp_path / "fleet"
    (fleet / "evil\x1b]0;owned\x07\x1b[2J").mkdir(parents=True)
    proc = tutorkit("status", fleet / "evil\x1b]0;owned\x07\x1b[2J")
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr
    assert "\\x1b" in proc.stdout + proc.stderr


@pytest.mark.parametrize("url", ["not a url", "--upload-pack=touch pwned", "ext::sh -c touch%20x"])
@pytest.mark.parametrize("command", ["new", "adopt"])
def test_a_template_url_that_is_not_a_url_is_refused(tmp_path, url, command):
    """`--template-url` is recorded in the answers file and later handed to git: anything but a
    git URL is a usage error (exit 2) and nothing is created or changed."""
    target = tmp_path / "dest"
    if command == "adopt":
        (target / "notebooks").mkdir(parents=True)
        (target / "notebooks" / "a.py").write_text("import torch\n")
        git(target, "init", "--quiet")
        commit_all(target, "A tutorial")
    extra = ["--defaults"] if command == "new" else []
    with untouched(tmp_path):
        proc = tutorkit(command, target, "--template-url", url, *extra)
    assert proc.returncode == 2
    assert "--template-url" in one_sentence(proc)


def test_an_unwritable_cache_is_one_sentence(make_repo, tmp_path):
    """The template cache cannot be created (its place is a file): one sentence naming it and
    the variable that moves it, no traceback."""
    repo = make_repo()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    proc, said = update(repo, env={"TUTORKIT_CACHE_DIR": str(blocker / "cache")})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "template cache" in said and "TUTORKIT_CACHE_DIR" in said


# --- kills and full disks ------------------------------------------------------------------------


@pytest.mark.slow  # three updates, each failing at another write
@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_full_disk_leaves_the_repo_as_it_was_or_updated_and_says_which(make_repo, at):
    """The journal's N-th write fails with ENOSPC: the repo is either exactly as it was and the
    result says failed, or fully updated and the result says so; never in between."""
    from tutorkit.land import FAULT_ENV

    repo = make_repo()
    before = everything(repo)
    (repo / NOTEBOOK).write_text((repo / NOTEBOOK).read_text())  # unchanged bytes
    proc = tutorkit("update", repo, "--to", NEW, "--json", env={FAULT_ENV: f"full-disk={at}"})
    (result,) = yaml.safe_load(proc.stdout)
    landed = yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == NEW
    if result["result"] == "failed":
        assert "No space left on device" in result["reason"]
        assert everything(repo) == before
    else:
        assert result["result"] in ("updated", "conflicts") and landed
    assert not (repo / ".git" / "tutorkit" / "txn").exists()


@pytest.mark.slow  # a killed update and its recovery, in a linked worktree
def test_a_killed_landing_in_a_linked_worktree_is_reported_and_undone(make_repo, tmp_path):
    """A linked worktree keeps `.git/tutorkit` in the main repo's git folder: status says the
    landing was killed (never `current`), and the next update undoes it and updates."""
    from tutorkit.land import FAULT_ENV

    main = make_repo()
    worktree = tmp_path / "linked"
    git(main, "worktree", "add", "--quiet", str(worktree))
    before = everything(worktree)
    killed = tutorkit("update", worktree, "--to", NEW, env={FAULT_ENV: "kill-while-landing=2"})
    assert killed.returncode == -signal.SIGKILL
    status = tutorkit("status", worktree)
    assert "killed while it wrote files" in status.stdout and "current" not in status.stdout
    proc = tutorkit("update", worktree, "--to", NEW)
    assert proc.returncode == 0, proc.stdout
    assert "was undone" in proc.stdout
    assert yaml.safe_load((worktree / ".copier-answers.yml").read_text())["_commit"] == NEW
    assert before != everything(worktree)


def tutorial_repo(root: Path) -> Path:
    """A small tutorial tutorkit did not make: nested notebooks, a space, its own .gitignore."""
    (root / "lessons" / "part 1").mkdir(parents=True)
    (root / "lessons" / "part 1" / "intro.py").write_text("import torch\n")
    (root / "README.md").write_text("# Old lectures\n\nNotes and notebooks.\n")
    (root / ".gitignore").write_text("__pycache__/\n*.ckpt\n")
    (root / "weights.ckpt").write_bytes(b"\0" * 64)
    git(root, "init", "--quiet")
    commit_all(root, "Lectures")
    return root


@pytest.mark.slow  # kills adopt at three moments
@pytest.mark.parametrize(
    "fault", ["kill-while-landing=0", "kill-while-landing=3", "kill-before-ref"]
)
def test_a_killed_adopt_is_undone_and_the_next_adopt_completes(tmp_path, fault):
    """SIGKILL while adopt writes (or just before its commit lands): the next tutorkit command
    that locks the repo undoes it, so the repo is exactly as it was; adopting again works."""
    from tutorkit.land import FAULT_ENV

    repo = tutorial_repo(tmp_path / "lectures")
    before = everything(repo)
    killed = tutorkit("adopt", repo, env={FAULT_ENV: fault})
    assert killed.returncode == -signal.SIGKILL
    recovered = tutorkit("update", repo)  # not a tutorkit repo: refused, after recovering
    assert recovered.returncode == 1
    assert everything(repo) == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    done = tutorkit("adopt", repo)
    assert done.returncode == 0, done.stderr
    assert git(repo, "log", "--format=%s", "-1").startswith("Adopt the tutorkit template")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.slow  # kills and reruns new
def test_a_killed_new_leaves_no_repo_and_the_next_new_completes(tmp_path):
    """SIGKILL just before the finished repo moves into place: DEST does not exist; the next
    `tutorkit new` there sweeps the staging folder and completes."""
    from tutorkit.land import FAULT_ENV

    dest = tmp_path / "parent" / "digits"
    (tmp_path / "parent").mkdir()
    killed = tutorkit("new", dest, "--defaults", env={FAULT_ENV: "kill-while-landing=0"})
    assert killed.returncode == -signal.SIGKILL
    assert not dest.exists()
    done = tutorkit("new", dest, "--defaults")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "parent").iterdir()) == ["digits"]


# --- GitHub's API --------------------------------------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """A server that records every request's path and Authorization header."""

    seen: list[tuple[str, str]]
    answer: Callable

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        type(self).answer(self)

    do_PUT = do_GET

    def log_message(self, *args):
        pass


@contextmanager
def server(answer: Callable):
    handler = type("Handler", (Recorder,), {"seen": [], "answer": staticmethod(answer)})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", handler.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def on_github(repo: Path, origin: str) -> None:
    git(repo, "remote", "add", "origin", origin)


def test_the_token_never_follows_a_redirect_to_another_host(make_repo):
    """The API answers 302 to another host: tutorkit stops with one sentence and the other host
    never sees the token (it is never even asked)."""

    def elsewhere(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"workflows": []}')

    with server(elsewhere) as (other, other_seen):

        def redirect(handler):
            handler.send_response(302)
            handler.send_header("Location", f"{other}{handler.path}")
            handler.end_headers()

        with server(redirect) as (api, api_seen):
            repo = make_repo()
            on_github(repo, "https://github.com/ada/digits.git")
            env = {"GH_TOKEN": TOKEN, "GITHUB_API_URL": api}
            proc = tutorkit("status", repo, "--github", env=env)
    assert proc.returncode == 1
    assert "redirected to another host" in one_sentence(proc)
    assert api_seen and all(auth == f"Bearer {TOKEN}" for _path, auth in api_seen)
    assert other_seen == []


def test_an_origin_url_with_a_token_is_never_printed(make_repo):
    """An origin remote with credentials in it (`https://user:TOKEN@github.com/...`) and a
    repo name GitHub refuses: the message names the remote without its credentials."""

    with server(lambda handler: None) as (api, _seen):
        repo = make_repo()
        on_github(repo, f"https://x-access-token:{TOKEN}@github.com/ada/bad..name!.git")
        proc = tutorkit("status", repo, "--github", env={"GH_TOKEN": "t", "GITHUB_API_URL": api})
    no_secrets(proc)
    assert "https://***@github.com/" in proc.stdout


def drip(handler):
    """Headers at once, then one byte a second, for ever (until the client goes)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    try:
        for _ in range(600):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


@pytest.mark.slow  # waits out a 3-second deadline
def test_a_server_that_drips_cannot_hold_status_past_its_deadline(make_repo):
    """A 1-byte-a-second API: `status --github` stops at its whole-command deadline
    ($TUTORKIT_GITHUB_DEADLINE) with one sentence, whatever the per-read timeouts."""
    with server(drip) as (api, _seen):
        repo = make_repo()
        on_github(repo, "https://github.com/ada/digits.git")
        env = {"GH_TOKEN": TOKEN, "GITHUB_API_URL": api, "TUTORKIT_GITHUB_DEADLINE": "3"}
        start = time.monotonic()
        proc = tutorkit("status", repo, "--github", env=env, timeout=60)
        elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert "did not answer within 3 seconds in all" in one_sentence(proc)
    assert elapsed < 30


@pytest.mark.slow  # lets requests hang for 3 seconds first
def test_sigterm_stops_status_github_at_once_on_a_dripping_server(make_repo):
    """SIGTERM while every request hangs on a dripping server: the command ends promptly
    (open connections are cut) and says it was interrupted."""
    with server(drip) as (api, _seen):
        repo = make_repo()
        on_github(repo, "https://github.com/ada/digits.git")
        env = {**os.environ, "GH_TOKEN": TOKEN, "GITHUB_API_URL": api}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tutorkit", "status", str(repo), "--github"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - start
    assert proc.returncode == 130
    assert "interrupted" in err and TOKEN not in err
    assert elapsed < 5


def test_adopt_reads_nothing_through_a_link_out_of_the_repo(tmp_path, canary):
    """The notebooks adopt reads to tell the framework are the repo's own: a notebook that is a
    link to a file outside the repo is not read (here it would have said PyTorch)."""
    outside = canary / "elsewhere.py"
    outside.write_text("import torch\n")
    repo = tmp_path / "tutorial"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "linked.py").symlink_to(outside)
    (repo / "README.md").write_text("# A tutorial\n")
    git(tmp_path, "init", "--quiet", str(repo))
    commit_all(repo, "A tutorial with a link")
    with untouched(repo, canary):
        proc = tutorkit("adopt", repo)
    assert proc.returncode == 2
    assert "do not tell PyTorch from TensorFlow" in one_sentence(proc)
