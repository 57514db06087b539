"""Every command shown in the docs is exercised: run for real in a sandbox, or mapped to its test.

Each ```bash block of docs/**/*.md is split into commands (one per line, ``\\`` continues a line).
A command is either

- **run**: every page gets a sandbox (its own $HOME, a git copy of this checkout's template
  published as a bare repo with two release tags, an isolated git) and its commands run in order
  in one bash session, as a reader would type them; each must exit as EXPECTED_EXIT says (0 unless
  listed); or
- **mapped**: listed in MAPPED with the test that mirrors it, when it needs what a test machine
  lacks (conda, GitHub, a browser, a fresh multi-minute install) or is this suite itself.

A command that is neither fails the test, and so does a mapping that no page shows any more.

The pages' examples name two releases, v0.1.0 (the one installed) and v0.2.0 (the next). The
sandbox tags this checkout with its own version and the next minor one, and reads the pages'
versions as those two, so the pages need no edit when the version is bumped.

A page whose commands run the generated repo's own code (``python -m digits_cnn...``) runs them
with a PyTorch repo installed from its pins: that page's test is marked slow.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from support import CHECKOUT, TEMPLATE_TAG, git, retitle

DOCS = CHECKOUT / "docs"
PAGE_TAG, PAGE_NEXT_TAG = "v0.1.0", "v0.2.0"  # the releases the pages' examples name


def _next_minor(tag: str) -> str:
    from packaging.version import Version

    version = Version(tag)
    return f"v{version.major}.{version.minor + 1}.0"


NEXT_TAG = _next_minor(TEMPLATE_TAG)  # the release the fleet and conflict pages update to
# The pages' versions -> the sandbox's (the same two while tutorkit is 0.1.0).
VERSIONS = {PAGE_TAG: TEMPLATE_TAG, PAGE_NEXT_TAG: NEXT_TAG}
TEMPLATE_URL = "https://github.com/tutorkit/tutorkit.git"
# A ```bash block (its commands), or a block with a file name (```toml title="notebooks.toml"):
# the reader saves it as that file, so the sandbox writes it there at that point of the page.
FENCE = re.compile(
    r'^(?P<indent>[ \t]*)```(?:bash|\w+ title="(?P<title>[^"]+)")\n(?P<body>.*?)^(?P=indent)```',
    re.M | re.S,
)

EXECUTE = (
    "tests/template/test_execute.py::test_generated_repo_test_suite_passes_including_its_notebooks"
)
NOTEBOOK = "tests/template/test_execute.py::test_notebook_executes_without_log_noise"
CONDA = "tests/template/test_workflows.py::test_notebooks_workflow_runs_everything_everywhere"
UPDATE_WORKFLOW = "tests/template/test_workflows.py::test_template_update_workflow"
CANARY = (
    "tests/template/test_workflow_scripts.py::test_canary_installs_the_newest_releases_unpinned"
)
STATUS_GITHUB = "tests/cli/test_status_github.py::"
FLEET_TEMPLATE = "tests/template/test_fleet_template.py::"
APP_SECRETS = (
    "for repo in digits-cnn iris-mlp; do gh variable set TUTORKIT_APP_CLIENT_ID --repo "
    '"ada/$repo" --body Iv23liExampleId; gh secret set TUTORKIT_APP_PRIVATE_KEY --repo '
    '"ada/$repo" < tutorkit-updates.private-key.pem; done'
)
INSTALLED = "tests/docs/test_commands.py::test_tutorkit_is_installed_with_its_template"
# requirements.txt's lines, which environment.yml's pip section repeats, installed as conda does.
ONE_COMMAND_INSTALL = (
    "tests/template/test_lock.py::test_the_one_command_installs_get_exactly_the_lock"
)
TEXT_SUITE = (
    "tests/template/test_execute_text.py::"
    "test_text_repo_test_suite_passes_offline_with_its_notebook_and_the_hub_path"
)
MLFLOW_UI = "tests/template/test_execute_text.py::test_mlflow_ui_serves_the_logged_runs"
SITE = "tests/docs/test_site.py::test_site_builds_strict_outside_the_repo"
SUITE = "tests/docs/test_changelog.py::test_changelog_has_a_section_for_this_version"
REMERGE = (
    "tests/cli/test_check_conflicts.py::"
    "test_a_notebook_a_text_merge_broke_is_repaired_as_the_docs_say"
)

# (page, command) -> the test that mirrors it. Keep the reason next to each group.
MAPPED: dict[tuple[str, str], str] = {
    # The lock: the install takes minutes (the slow suite installs every repo from its lock), and
    # `tutorkit lock` needs PyTorch's CPU index, unreachable here (the test takes the same wheel
    # from pip's find-links folder).
    ("generated-repo.md", "pip install --require-hashes -r requirements.lock"): EXECUTE,
    ("generated-repo.md", "pip install --no-deps -e ."): EXECUTE,
    ("generated-repo.md", "tutorkit lock"): (
        "tests/template/test_lock.py::"
        "test_an_authors_dependency_is_added_to_the_lock_as_of_the_recorded_date"
    ),
    # Installing tutorkit itself: every test runs on that install (.ci/run does it from scratch).
    ("getting-started.md", "pip install -e ./tutorkit"): INSTALLED,
    ("maintaining.md", "pip install -e '.[test]'"): INSTALLED,
    ("maintaining.md", "pip install -e '.[docs]'"): SITE,
    # Installing a generated repo from its pins and running its suite: minutes, done once per
    # framework by the slow template tests, from exactly these files.
    ("getting-started.md", "python -m venv .venv && source .venv/bin/activate"): EXECUTE,
    ("getting-started.md", "pip install -r requirements.txt"): ONE_COMMAND_INSTALL,
    ("getting-started.md", "pytest"): EXECUTE,
    # TK201's fix: the command TK201 itself runs, on a starter repo.
    ("checks.md", "TUTORIAL_PROFILE=smoke python .github/scripts/notebooks.py notebooks"): (
        "tests/cli/test_status_check.py::test_check_run_executes_the_notebooks_in_smoke_mode"
    ),
    ("getting-started.md", "jupyter lab notebooks/01-quickstart.ipynb"): NOTEBOOK,
    # conda cannot solve here (no channels): the generated repo's CI runs these on GitHub.
    ("getting-started.md", "conda env create -f environment.yml"): ONE_COMMAND_INSTALL,
    ("getting-started.md", "conda activate digits-cnn"): CONDA,
    # Re-merging a notebook that a text merge broke needs a repo in that state: built by REMERGE.
    ("checks.md", "git show :1:notebooks/01-quickstart.ipynb > base.ipynb"): REMERGE,
    ("checks.md", "git show :2:notebooks/01-quickstart.ipynb > ours.ipynb"): REMERGE,
    ("checks.md", "git show :3:notebooks/01-quickstart.ipynb > theirs.ipynb"): REMERGE,
    (
        "checks.md",
        "nbmerge base.ipynb ours.ipynb theirs.ipynb --out notebooks/01-quickstart.ipynb",
    ): REMERGE,
    # GitHub only: the workflows these commands start or configure, and status --github
    # against a local stand-in for GitHub's API.
    ("fleet.md", "gh workflow run template-update.yml"): UPDATE_WORKFLOW,
    ("fleet.md", APP_SECRETS): UPDATE_WORKFLOW,
    ("fleet.md", "gh secret set TEMPLATE_UPDATE_TOKEN --repo ada/digits-cnn"): UPDATE_WORKFLOW,
    ("fleet.md", "gh workflow run dependency-drift.yml"): CANARY,
    (
        "fleet.md",
        "tutorkit status ~/tutorials --github",
    ): f"{STATUS_GITHUB}test_status_github_table",
    ("fleet.md", "tutorkit status ~/tutorials --github --json"): (
        f"{STATUS_GITHUB}test_status_github_reports_each_repo"
    ),
    ("fleet.md", "tutorkit status ~/tutorials --github --fix"): (
        f"{STATUS_GITHUB}test_status_github_fix_reenables_only_workflows_disabled_for_inactivity"
    ),
    # The dashboard, the fleet repo and waves: GitHub's API is the local stand-in, GitHub's
    # git the bare repos of a local folder, the page opened in Chromium.
    ("dashboard.md", "tutorkit status ~/tutorials --github --html site"): (
        "tests/cli/test_dashboard.py::test_dashboard_of_thirty_repos_in_mixed_states"
    ),
    ("dashboard.md", "gh secret set FLEET_TOKEN --repo ada/ada-fleet"): (
        f"{FLEET_TEMPLATE}test_dashboard_workflow_least_privilege_pinned"
    ),
    ("dashboard.md", "tutorkit fleet clone fleet.yml ~/fleet"): (
        f"{FLEET_TEMPLATE}test_dashboard_job_against_stand_ins"
    ),
    ("dashboard.md", "tutorkit status ~/fleet --github --registry fleet.yml --html site"): (
        f"{FLEET_TEMPLATE}test_dashboard_job_against_stand_ins"
    ),
    ("dashboard.md", "tutorkit update ~/fleet --wave canary"): (
        "tests/cli/test_fleet.py::test_update_wave_updates_that_group_only"
    ),
    ("dashboard.md", "tutorkit fleet rollout fleet.yml ~/fleet --dry-run"): (
        "tests/cli/test_fleet.py::"
        "test_a_release_reaches_the_canary_first_and_the_rest_after_it_passes"
    ),
    ("dashboard.md", "gh variable set TUTORKIT_ROLLOUT --repo ada/iris-mlp --body fleet"): (
        f"{FLEET_TEMPLATE}test_rollout_workflow_least_privilege_and_the_members_gate"
    ),
    # Pinning needs the package index and, for torch, PyTorch's CPU index (not reachable
    # here): the same command on a repo without torch, against PyPI.
    ("adopting.md", "tutorkit deps ~/tutorials/vision-lectures"): (
        "tests/cli/test_deps.py::test_deps_pins_as_of_the_last_commit_and_writes_only_a_new_file"
    ),
    # The text member's prefetch, and MLflow's UI: the slow tests of its installed repo run them
    # (the prefetch from a Hugging Face cache laid out by the repo's own test, offline).
    ("tasks-and-tracking.md", "python -m review_sentiment.model --prefetch"): TEXT_SUITE,
    ("tasks-and-tracking.md", "mlflow ui --backend-store-uri sqlite:///mlflow.db"): MLFLOW_UI,
    # The template's own development loop: this suite, and the site it builds.
    ("maintaining.md", "python -m venv .venv && source .venv/bin/activate"): INSTALLED,
    ("maintaining.md", "python -m pytest"): SUITE,
    ("maintaining.md", "mkdocs serve"): SITE,
}

# (page, command, occurrence on the page) -> exit status, when it is not 0.
EXPECTED_EXIT: dict[tuple[str, str, int], int] = {
    (
        "configuration.md",
        "python -m digits_cnn.train --config smoke --set train.learning_rate=0.1",
        1,
    ): 2,
    ("fleet.md", "tutorkit status ~/tutorials", 1): 1,  # behind v0.2.0
    ("fleet.md", "tutorkit status ~/tutorials --json", 1): 1,
    # conflicts in the notebook's title cell; then TK120 fails until it is resolved
    ("conflicts.md", "tutorkit update ~/tutorials/digits-cnn", 1): 1,
    ("conflicts.md", "tutorkit check .", 1): 1,
    # legacy/ fails to import and the GPU notebook finds no GPU, until notebooks.toml says so
    ("adopting.md", "python .github/scripts/notebooks.py .", 1): 1,
    (  # TensorFlow has no text-classification starter: refused, nothing written
        "tasks-and-tracking.md",
        "tutorkit new review-sentiment-tf --defaults --data task=text-classification "
        "--data framework=tensorflow",
        1,
    ): 2,
}

# What a page assumes before its first command (bash, in the sandbox's $HOME; not shown).
NEW_REPO = "tutorkit new {dest} --defaults --data project_title='Digits CNN' >/dev/null"
PRELUDES: dict[str, str] = {
    "getting-started.md": 'git init --quiet --bare "$SANDBOX/github/digits-cnn.git"',
    "generated-repo.md": f"{NEW_REPO.format(dest='digits-cnn')}\ncd digits-cnn",
    "configuration.md": f"{NEW_REPO.format(dest='digits-cnn')}\ncd digits-cnn",
    "switching-framework.md": f"{NEW_REPO.format(dest='digits-cnn')}\ncd digits-cnn",
    "tasks-and-tracking.md": "",  # its commands make their own repos
    "fleet.md": "\n".join(
        [
            NEW_REPO.format(dest="tutorials/digits-cnn"),
            "tutorkit new tutorials/iris-mlp --defaults --data project_title='Iris MLP' >/dev/null",
        ]
    ),
    "conflicts.md": "\n".join(
        [
            NEW_REPO.format(dest="tutorials/digits-cnn"),
            "cd tutorials/digits-cnn",
            # The author's own title in the notebook's first cell (JSON: the newline is \\n).
            'sed -i \'s/"# Digits CNN\\\\n"/"# Digits CNN, the article edition\\\\n"/\' '
            "notebooks/01-quickstart.ipynb",
            "grep -q 'the article edition' notebooks/01-quickstart.ipynb",
            'git commit --quiet -am "My own title"',
            'cd "$HOME"',
        ]
    ),
    "checks.md": f"{NEW_REPO.format(dest='tutorials/digits-cnn')}\ncd tutorials/digits-cnn",
    "dashboard.md": ":",  # its one command that runs here, `tutorkit fleet init`, needs nothing
    # A lecture repo tutorkit never made (tests/cli/tutorial_repos.py): nested folders with
    # spaces, a legacy/ folder, a GPU notebook, its own .gitignore, a CRLF README, no
    # requirements file.
    "adopting.md": (
        "python -c \"import sys; sys.path[:0] = [sys.argv[1] + '/tests', sys.argv[1] + "
        "'/tests/cli']; from pathlib import Path; from tutorial_repos import vision_repo; "
        'vision_repo(Path(\'tutorials\'))" "$CHECKOUT" >/dev/null'
    ),
    "maintaining.md": "\n".join(
        [
            # The release being made is the next one: the upstream has only this version's tag.
            f'git -C "$SANDBOX/tutorkit.git" tag -d {NEXT_TAG} >/dev/null',
            'git clone --quiet "$SANDBOX/tutorkit.git" "$SANDBOX/work"',
            'cp "$CHECKOUT/CHANGELOG.md" "$SANDBOX/work/"',
            'git -C "$SANDBOX/work" add CHANGELOG.md',
            'git -C "$SANDBOX/work" commit --quiet -m "Changelog"',
            'git -C "$SANDBOX/work" push --quiet origin main',
        ]
    ),
}

# Addresses that exist only on GitHub, and where the sandbox keeps them.
SUBSTITUTIONS = {
    TEMPLATE_URL: "file://$SANDBOX/tutorkit.git",
    "https://github.com/your-github-name/digits-cnn.git": "file://$SANDBOX/github/digits-cnn.git",
}


def doc_commands() -> dict[str, list[str]]:
    """Page (relative to docs/) -> its bash commands, in order."""
    pages = {}
    for path in sorted(DOCS.rglob("*.md")):
        commands = []
        for block in FENCE.finditer(path.read_text(encoding="utf-8")):
            if block["title"]:
                name = shlex.quote(block["title"])
                commands.append(f"cat > {name} <<'TUTORKIT_FILE'\n{block['body']}TUTORKIT_FILE")
                continue
            body = re.sub(r"\\\n\s*", "", block["body"])
            for line in body.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    commands.append(line)
        if commands:
            pages[path.relative_to(DOCS).as_posix()] = commands
    return pages


COMMANDS = doc_commands()


def test_every_command_is_run_or_mapped_and_every_mapping_is_shown():
    shown = {(page, command) for page, commands in COMMANDS.items() for command in commands}
    assert shown, "no ```bash blocks found in docs/"
    stale = sorted(set(MAPPED) - shown)
    assert not stale, f"MAPPED lists commands no page shows any more: {stale}"
    unsandboxed = sorted(
        page for page in COMMANDS if page not in PRELUDES and page != "reference/cli.md"
    )
    assert not unsandboxed, f"pages with commands but no sandbox set-up in PRELUDES: {unsandboxed}"
    stale_exits = sorted({(p, c) for p, c, _ in EXPECTED_EXIT} - shown)
    assert not stale_exits, f"EXPECTED_EXIT lists commands no page shows: {stale_exits}"


@pytest.mark.parametrize("mirror", sorted(set(MAPPED.values())))
def test_every_mapped_command_names_a_test_that_exists(mirror):
    path, _, name = mirror.partition("::")
    assert (CHECKOUT / path).is_file(), mirror
    assert re.search(rf"^def {name}\(", (CHECKOUT / path).read_text(), re.M), mirror


def test_tutorkit_is_installed_with_its_template():
    """What `pip install -e .` gives: the commands and the embedded template."""
    from tutorkit.template import embedded_template_dir

    bin_dir = Path(sys.executable).parent
    for tool in ("tutorkit", "copier", "nbstripout", "mkdocs"):
        assert (bin_dir / tool).exists(), f"{tool} is not installed next to {sys.executable}"
    assert (embedded_template_dir() / "copier.yml").is_file()


@pytest.fixture(scope="session")
def releases(tmp_path_factory, template_repo) -> Path:
    """The template with its two releases: this checkout as TEMPLATE_TAG, and NEXT_TAG whose
    README and starter notebook change their title line (the README is the author's: the change
    is a suggestion; an author's own notebook title conflicts with it)."""
    repo = tmp_path_factory.mktemp("releases") / "tutorkit"
    git(repo.parent, "clone", "--quiet", str(template_repo), str(repo))
    retitle(repo, " (companion repo)")
    git(repo, "commit", "--quiet", "-am", f"Template {NEXT_TAG}")
    git(repo, "tag", NEXT_TAG)
    return repo


def sandbox_script(page: str, rc_file: Path) -> str:
    lines = ["set -u", 'cd "$HOME"', "set -e", PRELUDES.get(page, ":"), "set +e"]
    seen: dict[str, int] = {}
    for index, command in enumerate(COMMANDS[page]):
        seen[command] = seen.get(command, 0) + 1
        if (page, command) in MAPPED:
            continue
        for address, local in SUBSTITUTIONS.items():
            command = command.replace(address, local)
        command = re.sub(r"\bv\d+\.\d+\.\d+\b", lambda m: VERSIONS.get(m[0], m[0]), command)
        lines += [
            f"printf '\\n$ %s\\n' {shlex.quote(command)}",
            command,
            f'echo "{index} $?" >> {shlex.quote(str(rc_file))}',
        ]
    return "\n".join(lines) + "\n"


def tutorial_python(sandbox: Path, installations) -> Path:
    """A folder whose `python` is a generated PyTorch repo's own venv (torch, numpy, pytest...).

    The pages' `python -m <package>...` commands need what `pip install -r requirements.txt`
    gives; `tutorkit` and `copier` keep running from this test's environment (their scripts
    name their interpreter).
    """
    shims = sandbox / "shims"
    shims.mkdir()
    python = installations("pytorch").python
    (shims / "python").write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} "$@"\n')
    (shims / "python").chmod(0o755)
    return shims


def runs_the_repo(page: str) -> bool:
    """Whether a page runs the generated repo's code (``python -m digits_cnn...``)."""
    return any(
        re.search(r"\bpython3? -m digits_cnn\b", command)
        for command in COMMANDS[page]
        if (page, command) not in MAPPED
    )


@pytest.mark.slow  # every page's commands, run in a sandbox: about 35 s in all
@pytest.mark.parametrize("page", sorted(p for p in COMMANDS if not runs_the_repo(p)))
def test_page_commands_run(page, releases, tmp_path):
    shims = tmp_path / "shims"  # `python` stays this test's own, without the tutorial's stack
    shims.mkdir()
    run_page(page, releases, tmp_path, shims)


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(p for p in COMMANDS if runs_the_repo(p)))
def test_page_commands_run_with_the_tutorials_python(page, releases, installations, tmp_path):
    run_page(page, releases, tmp_path, tutorial_python(tmp_path, installations))


def run_page(page: str, releases: Path, sandbox: Path, shims: Path) -> None:
    """Run a page's commands in order in one bash session, in a sandbox; check each exit."""
    home = sandbox / "home"
    home.mkdir()
    git(sandbox, "clone", "--quiet", "--bare", str(releases), str(sandbox / "tutorkit.git"))
    (sandbox / "github").mkdir()
    rc_file = sandbox / "exit-codes"
    rc_file.touch()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"TUTORIAL_PROFILE", "VIRTUAL_ENV", "PYTHONPATH", "COLUMNS"}
    }
    env.update(
        HOME=str(home),
        SANDBOX=str(sandbox),
        CHECKOUT=str(CHECKOUT),
        PATH=os.pathsep.join([str(shims), str(Path(sys.executable).parent), env.get("PATH", "")]),
        TUTORKIT_TEMPLATE_URL=f"file://{sandbox / 'tutorkit.git'}",
        # The repos the pages create, importable as after `pip install -r requirements.txt`.
        PYTHONPATH=os.pathsep.join(
            str(home / repo / "src") for repo in ("digits-cnn", "tutorials/digits-cnn")
        ),
        NO_MKDOCS_2_WARNING="1",
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    done = subprocess.run(
        ["bash", "-c", sandbox_script(page, rc_file)],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    transcript = f"{done.stdout}\n--- stderr ---\n{done.stderr}"
    codes = dict(line.split() for line in rc_file.read_text().splitlines())
    seen: dict[str, int] = {}
    ran = 0
    for index, command in enumerate(COMMANDS[page]):
        seen[command] = seen.get(command, 0) + 1
        if (page, command) in MAPPED:
            continue
        expected = EXPECTED_EXIT.get((page, command, seen[command]), 0)
        assert str(index) in codes, f"{page}: `{command}` never ran\n{transcript}"
        actual = int(codes[str(index)])
        assert actual == expected, (
            f"{page}: `{command}` exited {actual}, expected {expected}\n{transcript}"
        )
        ran += 1
    assert done.returncode == 0, transcript
    assert ran, f"{page}: every command is mapped, none ran"
