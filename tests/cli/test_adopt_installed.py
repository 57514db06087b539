"""`tutorkit adopt` as users run it: from a built wheel or sdist installed into a virtual
environment (pip byte-compiles the template's scripts there), on tutorial repos that ignore
`__pycache__/`. And, fast, the template itself: no install artefact reaches any layout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from support import CHECKOUT, git
from tutorial_repos import keras_repo, vision_repo

ARTEFACTS = ("__pycache__", ".pyc", ".pyo", ".DS_Store", ".ipynb_checkpoints", "Thumbs.db")


def artefacts(paths) -> list[str]:
    return [p for p in paths if any(part in p for part in ARTEFACTS)]


@pytest.mark.parametrize("layout", ["starter", "infrastructure"])
def test_no_install_artefact_reaches_a_render(tmp_path, layout):
    """The template as an install leaves it (byte-code beside every script, editor and OS
    litter) renders none of it, in either layout."""
    import copier

    template = tmp_path / "template"
    shutil.copy2(CHECKOUT / "copier.yml", template.mkdir() or template / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", template / "templates")
    project = template / "templates" / "project"
    for folder in [p for p in project.rglob("*") if p.is_dir()] + [project]:
        (folder / "__pycache__").mkdir(exist_ok=True)
        (folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
        (folder / "stale.pyc").write_bytes(b"\x00")
        (folder / ".DS_Store").write_bytes(b"\x00")
    (project / ".github" / ".ipynb_checkpoints").mkdir()
    (project / ".github" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    dest = tmp_path / "out"
    copier.run_copy(str(template), dest, data={"layout": layout}, defaults=True, quiet=True)
    rendered = [p.relative_to(dest).as_posix() for p in dest.rglob("*")]
    assert any(p.startswith(".github/scripts/") for p in rendered)
    assert artefacts(rendered) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
@pytest.mark.parametrize("make", [vision_repo, keras_repo])
def test_adopt_from_an_installed_package(tmp_path, template, installs, kind, make):
    repo = make(tmp_path)
    env = {**os.environ, "TUTORKIT_TEMPLATE_URL": template}
    done = subprocess.run(
        [installs[kind], "adopt", repo, "--json"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["added"] and artefacts(result["added"]) == []
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(committed) == result["added"]
    assert git(repo, "status", "--porcelain", "--ignored") == ""  # nothing left, not even ignored
    assert ".github/scripts/job_report.py" in committed
    assert result["answers"]["layout"] == "infrastructure"
    title, description = README_ANSWERS[make]
    assert (result["answers"]["project_title"], result["answers"]["description"]) == (
        title,
        description,
    )


README_ANSWERS = {
    vision_repo: ("Vision Lectures", "Convolutional networks from scratch, one lecture a week."),
    keras_repo: ("Keras Course", "Hands-on Keras, one notebook a week."),
}


@pytest.mark.parametrize("make", [vision_repo, keras_repo])
def test_adopt_reads_the_title_and_description_of_real_readmes(tmp_path, tk, template, make):
    """A CRLF README.md that starts with a blank line and a `##` heading, and a README.rst."""
    repo = make(tmp_path)
    code, out, err = tk("adopt", repo, "--template-url", template, "--json")
    assert code == 0, err
    answers = json.loads(out)[0]["answers"]
    assert (answers["project_title"], answers["description"]) == README_ANSWERS[make]
