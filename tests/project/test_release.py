"""tutorkit as a released project: its licence, its one version, its own workflows, its addresses.

tutorkit's own workflows (.github/workflows/: ci, docs, release) are validated offline as the
generated repos' are (GitHub's JSON schema, actionlint, zizmor: zero findings), and their `run:`
scripts are executed here: those that need only what this machine has in the fast tests, those
that install from PyPI into a fresh environment in the slow ones. What only GitHub can run is
listed in GITHUB_ONLY with the reason.
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
import yaml
from support import (
    CHECKOUT,
    TEMPLATE_TAG,
    actionlint_findings,
    git,
    tool,
    workflow_schema_errors,
    zizmor_findings,
)

import tutorkit
from tutorkit import checks
from tutorkit.template import DEFAULT_DOCS_URL, DEFAULT_TEMPLATE_URL, PROJECT_URL, current_tag

WORKFLOWS = CHECKOUT / ".github" / "workflows"
RELEASE_SCRIPT = CHECKOUT / ".ci" / "release.py"
LOCK_TEMPLATE_SCRIPT = CHECKOUT / "scripts" / "lock_template.py"
FULL_SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s*uses:\s*\S+\s+#\s*v\d+\.\d+\.\d+\s*$")

# (workflow, job) -> the permissions it holds; every other job holds none but `contents: read`.
PRIVILEGED = {
    ("docs.yml", "deploy"): {"pages": "write", "id-token": "write"},
    ("release.yml", "pypi"): {"id-token": "write"},
    ("release.yml", "github"): {"contents": "write"},
}
# `run:` scripts that only GitHub can run, and the test that stands in for them.
GITHUB_ONLY = {
    ("ci.yml", "test", ".ci/run"): "this suite (test_ci_runs_the_readme_test_command)",
}


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def run_scripts(workflow: str, job: str) -> list[tuple[str, dict]]:
    """The `run:` scripts of a job, in order, each with its step's environment."""
    steps = load(WORKFLOWS / workflow)["jobs"][job]["steps"]
    return [(step["run"], step.get("env", {})) for step in steps if "run" in step]


def run_job(workflow: str, job: str, cwd: Path, env: dict, skip=()) -> list[str]:
    """Run a job's `run:` scripts as the runner does (bash -e -o pipefail), stopping at the first
    failure; returns the scripts that ran."""
    ran = []
    for script, step_env in run_scripts(workflow, job):
        if script.strip() in skip:
            continue
        step_env = {k: v for k, v in step_env.items() if "${{" not in str(v)}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env={**env, **step_env},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, (
            f"{workflow} {job}: `{script}` failed\n{done.stdout}{done.stderr}"
        )
        ran.append(script)
    return ran


def sections() -> list[tuple[str, str]]:
    """(tag, body) of CHANGELOG.md's release sections, newest first."""
    parts = re.split(r"^## (.*)$", (CHECKOUT / "CHANGELOG.md").read_text(), flags=re.M)
    return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts), 2)]


def release_script(*args: str, cwd: Path = CHECKOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RELEASE_SCRIPT), *args], cwd=cwd, capture_output=True, text=True
    )


def checkout_copy(dest: Path) -> Path:
    """What actions/checkout gives: the files git tracks (and new ones it does not ignore)."""
    listed = git(CHECKOUT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = CHECKOUT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> Path:
    """The sdist and the wheel, built once from this checkout (build, hatchling), outside it."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(CHECKOUT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def wheel_and_sdist(dists: Path) -> tuple[Path, Path]:
    [wheel], [sdist] = dists.glob("*.whl"), dists.glob("*.tar.gz")
    return wheel, sdist


def metadata(dists: Path) -> dict[str, email.message.Message]:
    wheel, sdist = wheel_and_sdist(dists)
    parse = email.parser.Parser().parsestr
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        from_wheel = parse(archive.read(name).decode())
    with tarfile.open(sdist) as archive:
        from_sdist = parse(
            archive.extractfile(f"{sdist.name[: -len('.tar.gz')]}/PKG-INFO").read().decode()
        )
    return {"wheel": from_wheel, "sdist": from_sdist}


# --- The licence ------------------------------------------------------------------------------


def test_the_licence_is_mit_and_ships_in_the_wheel_and_the_sdist(dists):
    licence = (CHECKOUT / "LICENSE").read_bytes()
    assert licence.startswith(b"MIT License\n")
    project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]
    assert (project["license"], project["license-files"]) == ("MIT", ["LICENSE"])
    wheel, sdist = wheel_and_sdist(dists)
    with zipfile.ZipFile(wheel) as archive:
        assert (
            archive.read(f"tutorkit-{tutorkit.__version__}.dist-info/licenses/LICENSE") == licence
        )
    with tarfile.open(sdist) as archive:
        assert archive.extractfile(f"tutorkit-{tutorkit.__version__}/LICENSE").read() == licence
    for meta in metadata(dists).values():
        assert (meta["License-Expression"], meta["License-File"]) == ("MIT", "LICENSE")


def test_the_sdist_holds_only_what_git_would(dists):
    """No build output, virtual environment or npm folder of this checkout in the sdist."""
    [sdist] = dists.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()}
    listed = git(CHECKOUT, "ls-files", "--cached", "--others", "--exclude-standard")
    assert members - {"PKG-INFO"} <= set(listed.splitlines())
    assert {"LICENSE", "README.md", "CHANGELOG.md", "copier.yml", ".ci/release.py"} <= members


def test_twine_check_passes_on_both_distributions(dists):
    done = subprocess.run(
        [tool("twine"), "check", "--strict", *map(str, wheel_and_sdist(dists))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- One version ------------------------------------------------------------------------------


def test_one_version_everywhere(dists):
    """__version__ is the only place the version is written; all the others follow it."""
    version = tutorkit.__version__
    project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/tutorkit/__init__.py"
    assert {kind: meta["Version"] for kind, meta in metadata(dists).items()} == {
        "wheel": version,
        "sdist": version,
    }
    assert current_tag() == TEMPLATE_TAG == f"v{version}"  # what `tutorkit new` records
    assert sections()[0][0] == f"v{version}", "CHANGELOG.md's newest section is not this version"
    done = subprocess.run(
        [sys.executable, "-m", "tutorkit", "--version"], capture_output=True, text=True
    )
    assert done.stdout.strip() == f"tutorkit {version}"


def test_the_release_check_accepts_the_version_tag_only(dists):
    ok = release_script("check", f"v{tutorkit.__version__}", str(dists))
    assert ok.returncode == 0, ok.stderr
    for tag in ("v99.0.0", tutorkit.__version__, f"v{tutorkit.__version__}.post1"):
        refused = release_script("check", tag, str(dists))
        assert refused.returncode == 1
        assert (
            refused.stderr.startswith("release: error: The tag") and refused.stderr.count("\n") == 1
        )


def test_the_release_check_wants_the_tag_as_newest_changelog_section(dists, tmp_path):
    """A tag whose version has no changelog section (or not the newest) is not released."""
    copy = tmp_path / ".ci" / "release.py"
    copy.parent.mkdir()
    shutil.copy2(RELEASE_SCRIPT, copy)
    tag = f"v{tutorkit.__version__}"
    text = (CHECKOUT / "CHANGELOG.md").read_text()
    for changelog, says in [
        (text.replace(f"## {tag}\n", "## v0.0.1\n"), f"no section '## {tag}'"),
        (text.replace(f"## {tag}\n", f"## v99.0.0\n\n- later\n\n## {tag}\n"), "newest section"),
    ]:
        (tmp_path / "CHANGELOG.md").write_text(changelog)
        done = subprocess.run(
            [sys.executable, str(copy), "check", tag, str(dists)], capture_output=True, text=True
        )
        assert done.returncode == 1 and says in done.stderr, done.stderr


def test_release_notes_are_the_changelog_section_as_the_documented_sed_prints_it():
    tag = f"v{tutorkit.__version__}"
    notes = release_script("notes", tag)
    assert notes.returncode == 0
    assert notes.stdout.strip() == dict(sections())[tag]
    sed = next(
        line
        for line in (CHECKOUT / "docs" / "maintaining.md").read_text().splitlines()
        if line.startswith("sed -n") and "CHANGELOG.md" in line
    )
    sed = re.sub(r"v\d+\.\d+\.\d+", tag, sed)  # the page's example names some version
    quoted = subprocess.run(["bash", "-c", sed], cwd=CHECKOUT, capture_output=True, text=True)
    assert quoted.stdout.strip() == notes.stdout.strip()
    assert release_script("notes", "v0.0.0").returncode == 1


@pytest.mark.parametrize(
    "tag, prerelease",
    [("v1.2.0", False), ("v1.3.0rc1", True), ("v2.0.0a2", True), ("v1.0.0.dev3", True)],
)
def test_prerelease_tags(tag, prerelease):
    assert (release_script("prerelease", tag).returncode == 0) is prerelease


# --- The workflows ----------------------------------------------------------------------------


def test_workflows_are_valid_and_lint_clean():
    files = workflow_files()
    assert [p.name for p in files] == ["ci.yml", "docs.yml", "release.yml"]
    assert workflow_schema_errors(files) == ""
    assert actionlint_findings(files) == []
    assert zizmor_findings(CHECKOUT / ".github") == []


def test_workflows_are_hardened():
    for path in workflow_files():
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
        for job_id, job in workflow["jobs"].items():
            expected = PRIVILEGED.get((path.name, job_id), {"contents": "read"})
            assert job.get("permissions") == expected, f"{path.name} {job_id}"
            assert job.get("timeout-minutes"), f"{path.name} {job_id}: no timeout-minutes"
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{path.name} {job_id}: ${{{{ }}}} in run"
                if "uses" in step:
                    assert FULL_SHA.match(step["uses"]), step["uses"]
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                assert VERSION_COMMENT.match(line.replace("- uses:", "uses:")), line


def test_what_publishes_what():
    """PyPI only from a version tag, after the build job's checks; the site only from main."""
    release = load(WORKFLOWS / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert (jobs["pypi"]["needs"], jobs["github"]["needs"]) == ("build", "pypi")
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    [publish] = [s for s in jobs["pypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert "with" not in publish, "trusted publishing: no password, no token"
    build_scripts = "\n".join(script for script, _ in run_scripts("release.yml", "build"))
    assert "twine check --strict dist/*" in build_scripts
    assert 'release.py check "$GITHUB_REF_NAME" dist' in build_scripts
    docs = load(WORKFLOWS / "docs.yml")
    assert docs["jobs"]["deploy"]["if"] == (
        "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"
    )
    assert "mkdocs build --strict" in "\n".join(s for s, _ in run_scripts("docs.yml", "build"))


def test_every_run_script_is_executed_by_a_test_or_listed_as_github_only():
    executed = {
        ("release.yml", "build"): "test_release_build_job_runs_here (slow)",
        ("release.yml", "github"): "test_github_release_job_runs_with_a_stand_in_gh",
        ("docs.yml", "build"): "test_docs_build_job_runs_here (slow)",
    }
    for path in workflow_files():
        for job_id in load(path)["jobs"]:
            for script, _ in run_scripts(path.name, job_id):
                key = (path.name, job_id)
                assert key in executed or (*key, script.strip()) in GITHUB_ONLY, (key, script)


def test_ci_runs_the_readme_test_command():
    """CI runs .ci/run, and .ci/run runs exactly the README's test command, nothing more
    (but for installing the browser that tests/cli/test_dashboard.py opens the page in)."""
    assert [s.strip() for s, _ in run_scripts("ci.yml", "test")] == [".ci/run"]
    assert os.access(CHECKOUT / ".ci" / "run", os.X_OK)
    browser = (
        'if [ "$(id -u)" = 0 ]; then apt-get update -q && '
        "apt-get install -y --no-install-recommends chromium; fi"
    )
    commands = [
        line
        for line in (CHECKOUT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd ")) and line != browser
    ]
    readme = (CHECKOUT / "README.md").read_text()
    assert len(commands) == 1 and commands[0] in readme.splitlines()


def test_github_release_job_runs_with_a_stand_in_gh(dists, tmp_path):
    """The job's script as written, with `gh` replaced by a recorder of its arguments."""
    work = tmp_path / "work"
    (work / ".ci").mkdir(parents=True)
    shutil.copy2(RELEASE_SCRIPT, work / ".ci" / "release.py")
    shutil.copy2(CHECKOUT / "CHANGELOG.md", work / "CHANGELOG.md")
    shutil.copytree(dists, work / "dist")  # what actions/download-artifact puts there
    bin_dir, runner_temp = tmp_path / "bin", tmp_path / "runner-temp"
    bin_dir.mkdir(), runner_temp.mkdir()
    record = tmp_path / "gh-args"
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    (bin_dir / "gh").chmod(0o755)
    tag = f"v{tutorkit.__version__}"
    env = {
        **os.environ,
        "PATH": os.pathsep.join(
            [str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "GITHUB_REF_NAME": tag,
        "RUNNER_TEMP": str(runner_temp),
    }
    assert len(run_job("release.yml", "github", work, env)) == 1
    args = record.read_text().splitlines()
    assert args[:3] == ["release", "create", tag]
    assert sorted(args[3:5]) == sorted(f"dist/{p.name}" for p in wheel_and_sdist(dists))
    assert args[5:] == [
        "--verify-tag",
        "--latest",
        "--title",
        f"tutorkit {tag}",
        "--notes-file",
        str(runner_temp / "notes.md"),
    ]
    assert (runner_temp / "notes.md").read_text().strip() == dict(sections())[tag]


def fresh_environment(path: Path) -> dict:
    """A new virtual environment, first on PATH (as setup-python's Python is on the runner)."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return {**os.environ, "PATH": os.pathsep.join([str(path / "bin"), os.environ["PATH"]])}


@pytest.mark.slow
def test_release_build_job_runs_here(tmp_path):
    """The build job's scripts, from PyPI into a fresh environment, on a copy of the checkout."""
    work = checkout_copy(tmp_path / "work")
    env = fresh_environment(tmp_path / "venv")
    env["GITHUB_REF_NAME"] = f"v{tutorkit.__version__}"
    assert len(run_job("release.yml", "build", work, env)) == 3
    assert sorted(p.name for p in (work / "dist").iterdir()) == [
        f"tutorkit-{tutorkit.__version__}-py3-none-any.whl",
        f"tutorkit-{tutorkit.__version__}.tar.gz",
    ]


@pytest.mark.slow
def test_docs_build_job_runs_here(tmp_path):
    work = checkout_copy(tmp_path / "work")
    env = fresh_environment(tmp_path / "venv")
    env.update(load(WORKFLOWS / "docs.yml")["jobs"]["build"]["env"])
    assert len(run_job("docs.yml", "build", work, env)) == 2
    assert (work / "site" / "index.html").is_file()
    assert (work / "site" / "reference" / "cli" / "index.html").is_file()


@pytest.mark.slow
def test_pip_installs_tutorkit_from_a_git_url(tmp_path):
    """The README's install before the first release, `pip install git+https://github.com/...`,
    here from a git repository of this checkout by git+file:// (the same path through pip)."""
    repo = checkout_copy(tmp_path / "tutorkit")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "tutorkit as pushed")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
        + [f"git+file://{repo}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    probe = "import tutorkit.template as t; print(t.__file__, t.embedded_template_dir())"
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    module, template = ran.stdout.split()
    assert Path(module).is_relative_to(site) and Path(template) == site / "tutorkit" / "template"
    assert (Path(template) / "copier.yml").is_file()
    licence = site / f"tutorkit-{tutorkit.__version__}.dist-info" / "licenses" / "LICENSE"
    assert licence.read_bytes() == (CHECKOUT / "LICENSE").read_bytes()


@pytest.mark.slow
def test_the_workflows_tutorkit_installs_from_its_hashed_lock_then_the_git_tag(tmp_path):
    """What every workflow that runs tutorkit installs, as the step runs it (git+file:// of a
    repository of this checkout in place of GitHub): templates/locks/tutorkit.txt is tutorkit's
    dependencies and `deps` extra resolved as of the recorded date, and installs hash-checked
    into a fresh venv, where tutorkit --no-deps then runs (nothing missing: `pip check`)."""
    import importlib.util

    from tutorkit.lock import lock_tools, recorded_date

    spec = importlib.util.spec_from_file_location("lock_template", LOCK_TEMPLATE_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shipped = (CHECKOUT / "templates" / "locks" / "tutorkit.txt").read_text()
    date = "2026-12-06"
    command = f"python scripts/lock_template.py --date {date}"
    assert lock_tools(script.tutorkit_requirements(), date, command) == shipped
    assert recorded_date(shipped) is None and f"--date {date}" in shipped
    repo = checkout_copy(tmp_path / "tutorkit")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "tutorkit as tagged")
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    lock = tmp_path / "requirements-tutorkit.lock"
    lock.write_text(shipped)
    for args in (["--require-hashes", "-r", str(lock)], ["--no-deps", f"git+file://{repo}"]):
        done = subprocess.run(
            [python, "-m", "pip", "install", "-q", *args], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    done = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    ran = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "tutorkit"), "--version"], capture_output=True, text=True
    )
    assert ran.returncode == 0 and tutorkit.__version__ in ran.stdout + ran.stderr
    uv = subprocess.run([python, "-c", "import uv; print(uv.find_uv_bin())"], capture_output=True)
    assert uv.returncode == 0  # the canary's `tutorkit lock` resolves with it


# --- The addresses ----------------------------------------------------------------------------


def test_the_canonical_addresses_agree():
    """template.py defines them; mkdocs.yml, pyproject.toml, checks and the README agree."""
    assert DEFAULT_TEMPLATE_URL == f"{PROJECT_URL}.git"
    mkdocs = yaml.safe_load((CHECKOUT / "mkdocs.yml").read_text())
    assert (mkdocs["site_url"], mkdocs["repo_url"]) == (DEFAULT_DOCS_URL, PROJECT_URL)
    assert mkdocs["repo_name"] == PROJECT_URL.removeprefix("https://github.com/")
    urls = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Homepage"] == PROJECT_URL and urls["Documentation"] == DEFAULT_DOCS_URL
    assert urls["Changelog"] == f"{DEFAULT_DOCS_URL}changelog/"
    assert urls["Issues"] == f"{PROJECT_URL}/issues"
    assert checks.DOCS_URL == f"{DEFAULT_DOCS_URL}checks/"
    readme = (CHECKOUT / "README.md").read_text()
    assert f"pip install git+{PROJECT_URL}" in readme
    assert DEFAULT_DOCS_URL in readme
    for where in [CHECKOUT / "README.md", *sorted((CHECKOUT / "docs").rglob("*.md"))]:
        for url in re.findall(
            r"https://(?:github\.com/tutorkit|tutorkit\.github\.io)[^\s)`'\"]*", where.read_text()
        ):
            assert url.startswith((PROJECT_URL, DEFAULT_DOCS_URL)), f"{where.name}: {url}"


def test_the_docs_address_can_be_overridden(tmp_path):
    """TUTORKIT_DOCS_URL (a fork's own site) replaces the address every check links to."""
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)  # check needs a repo
    done = subprocess.run(
        [sys.executable, "-m", "tutorkit", "check", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "TUTORKIT_DOCS_URL": "https://docs.example.org/fork"},
    )
    rows = yaml.safe_load(done.stdout)
    assert rows and {r["url"] for r in rows} == {
        f"https://docs.example.org/fork/checks/#{r['id'].lower()}" for r in rows
    }
