"""pre-commit and notebook hygiene of every generated repo.

`pre-commit run` needs the hook repositories from GitHub, which the tests cannot reach.
So the config is validated with `pre-commit validate-config`, and the hooks' own
commands (ruff, nbstripout, installed from PyPI at the versions the config pins) run on a
fresh render with the config's arguments: the author's first commit must change nothing,
and a notebook executed with outputs must strip back to exactly the file that was shipped.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from support import EXECUTE_NOTEBOOK, FRAMEWORKS, VARIANTS, tool

CONFIG = ".pre-commit-config.yaml"
RELEASE_TAG = re.compile(r"^v?\d+\.\d+\.\d+$")
LARGE_KB = 500


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, check=False, capture_output=True, text=True)


def hooks(repo: Path) -> dict[str, dict]:
    """hook id -> {"rev": ..., "args": [...], "repo": ...} from the rendered config."""
    config = yaml.safe_load((repo / CONFIG).read_text())
    return {
        hook["id"]: {"repo": entry["repo"], "rev": entry["rev"], "args": hook.get("args", [])}
        for entry in config["repos"]
        for hook in entry["hooks"]
    }


def nbstripout(repo: Path, *paths: str, verify: bool = False) -> subprocess.CompletedProcess:
    """nbstripout as the pre-commit hook runs it: with the config's arguments."""
    args = hooks(repo)["nbstripout"]["args"]
    return run(tool("nbstripout"), *args, *(["--verify"] if verify else []), *paths, cwd=repo)


def notebooks(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo).as_posix() for p in (repo / "notebooks").glob("*.ipynb"))


def text_files(repo: Path):
    for path in sorted(repo.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            yield path


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_config_is_valid(variants, framework, python):
    repo = variants[framework, python]
    done = run(tool("pre-commit"), "validate-config", CONFIG, cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hooks_are_pinned_and_complete(variants):
    repo = variants[VARIANTS[0]]
    found = hooks(repo)
    for hook_id, hook in found.items():
        assert RELEASE_TAG.match(hook["rev"]), (
            f"{hook_id}: rev {hook['rev']!r} is not a release tag"
        )
    assert {"nbstripout", "ruff-check", "ruff-format"} <= set(found)
    assert {"trailing-whitespace", "end-of-file-fixer", "check-yaml"} <= set(found)
    assert {"check-added-large-files", "check-merge-conflict"} <= set(found)
    # Outputs and execution counts are stripped (nbstripout's default); no --keep-* flag.
    assert not [a for a in found["nbstripout"]["args"] if a.startswith("--keep")]


def test_tests_run_the_pinned_tool_versions(variants):
    """The checks below mean "the first commit changes nothing" only at the pinned versions."""
    found = hooks(variants[VARIANTS[0]])
    ruff = run(tool("ruff"), "--version", cwd=Path.cwd()).stdout.split()[-1]
    assert f"v{ruff}" == found["ruff-check"]["rev"] == found["ruff-format"]["rev"], (
        f"the template pins ruff {found['ruff-check']['rev']}, the tests run ruff {ruff}: "
        "pin the same version in both"
    )
    stripout = run(tool("nbstripout"), "--version", cwd=Path.cwd()).stdout.split()[-1]
    assert stripout == found["nbstripout"]["rev"], (
        f"the template pins nbstripout {found['nbstripout']['rev']}, the tests run {stripout}"
    )


@pytest.mark.parametrize(("framework", "python"), VARIANTS)
def test_fresh_render_passes_ruff(variants, framework, python):
    repo = variants[framework, python]
    check = run(tool("ruff"), "check", "--no-cache", ".", cwd=repo)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = run(tool("ruff"), "format", "--no-cache", "--check", "--diff", ".", cwd=repo)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fresh_render_notebooks_are_stripped(variants, framework):
    repo = variants[framework, "3.11"]
    paths = notebooks(repo)
    assert paths, "no notebook rendered"
    done = nbstripout(repo, *paths, verify=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in paths:
        notebook = nbformat.read(repo / path, as_version=nbformat.NO_CONVERT)
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
        assert [cell.id for cell in notebook.cells] == [str(i) for i in range(len(notebook.cells))]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fresh_render_passes_the_hygiene_hooks(variants, framework):
    """What trailing-whitespace, end-of-file-fixer, mixed-line-ending, check-yaml/toml/json,
    check-merge-conflict and check-added-large-files would change or reject."""
    repo = variants[framework, "3.11"]
    problems = []
    for path in text_files(repo):
        name = path.relative_to(repo).as_posix()
        data = path.read_bytes()
        if len(data) > LARGE_KB * 1024:
            problems.append(f"{name}: larger than {LARGE_KB} kB")
        text = data.decode("utf-8")
        if "\r" in text:
            problems.append(f"{name}: CR line endings")
        if text and (not text.endswith("\n") or text.endswith("\n\n")):
            problems.append(f"{name}: must end with exactly one newline")
        for number, line in enumerate(text.splitlines(), 1):
            if line != line.rstrip():
                problems.append(f"{name}:{number}: trailing whitespace")
            if re.match(r"^(<{7}|={7}|>{7})( |$)", line):
                problems.append(f"{name}:{number}: merge-conflict marker")
        if path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".toml" and sys.version_info >= (3, 11):
            import tomllib

            tomllib.loads(text)
        elif path.suffix in {".json", ".ipynb"}:
            json.loads(text)
    assert not problems, "\n".join(problems)


def executed(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as Jupyter, Colab or VS Code save it after a run: outputs and metadata."""
    run_notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    run_notebook.metadata.language_info.update(
        codemirror_mode={"name": "ipython", "version": 3},
        file_extension=".py",
        mimetype="text/x-python",
        nbconvert_exporter="python",
        pygments_lexer="ipython3",
        version="3.11.7",
    )
    run_notebook.metadata.colab = {"provenance": [], "toc_visible": True}
    run_notebook.metadata.accelerator = "GPU"
    count = 0
    for cell in run_notebook.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.metadata.update(
            execution={"iopub.status.busy": "2026-01-01T00:00:00Z"},
            colab={"base_uri": "https://localhost:8080/"},
            outputId="0a1b2c3d",
            collapsed=False,
            scrolled=True,
        )
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=f"cell {count}\n"),
            nbformat.v4.new_output(
                "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
            ),
            nbformat.v4.new_output(
                "execute_result", data={"text/plain": "42"}, execution_count=count
            ),
        ]
    return run_notebook


@pytest.mark.slow  # three nbstripout runs per framework; the fast suite strips fresh renders
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_executed_notebook_strips_back_to_the_shipped_file(variants, framework, tmp_path):
    repo = variants[framework, "3.11"]
    for path in notebooks(repo):
        shipped = (repo / path).read_bytes()
        notebook = nbformat.reads(shipped.decode(), as_version=nbformat.NO_CONVERT)
        copy = repo / "notebooks" / "_executed_copy.ipynb"
        try:
            nbformat.write(executed(notebook), copy)
            assert nbstripout(repo, copy.name, verify=True).returncode != 0, "nothing to strip?"
            done = nbstripout(repo, str(copy.relative_to(repo)))
            assert done.returncode == 0, done.stdout + done.stderr
            assert nbstripout(repo, str(copy.relative_to(repo)), verify=True).returncode == 0
            assert copy.read_bytes() == shipped, f"{path}: stripping does not give the shipped file"
        finally:
            copy.unlink(missing_ok=True)


@pytest.mark.slow
def test_a_really_executed_notebook_strips_back_to_the_shipped_file(installed):
    """Real execution in the repo's own venv, as Jupyter executes and saves a notebook
    (nbclient, in place), then the nbstripout hook. (The notebook runner never writes into the
    repo: it writes executed notebooks to a folder of their own.)"""
    repo = installed.path
    for path in notebooks(repo):
        shipped = (repo / path).read_bytes()
        copy = repo / "notebooks" / "_executed_copy.ipynb"
        try:
            copy.write_bytes(shipped)
            relative = str(copy.relative_to(repo))
            done = installed.run(
                "-c", EXECUTE_NOTEBOOK, relative, relative, TUTORIAL_PROFILE="smoke"
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            run_notebook = nbformat.read(copy, as_version=nbformat.NO_CONVERT)
            assert any(cell.get("outputs") for cell in run_notebook.cells), "no output was written"
            stripped = nbstripout(repo, relative)
            assert stripped.returncode == 0, stripped.stdout + stripped.stderr
            assert copy.read_bytes() == shipped, f"{path}: stripping does not give the shipped file"
        finally:
            copy.unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("framework", "task", "tracking"),
    [
        ("pytorch", "text-classification", "mlflow"),  # the fast suite keeps this one
        *(
            pytest.param(*answers, marks=pytest.mark.slow)
            for answers in (
                ("pytorch", "text-classification", "none"),
                ("pytorch", "image-classification", "mlflow"),
                ("tensorflow", "image-classification", "mlflow"),
            )
        ),
    ],
)
def test_task_and_tracking_renders_pass_ruff_and_nbstripout(
    render, tmp_path, framework, task, tracking
):
    """The text member and the MLflow option: ruff (C90 included) and formatting clean, the
    notebook stripped, as the pre-commit hooks want them."""
    repo = render(tmp_path / "repo", framework=framework, task=task, tracking=tracking)
    check = run(tool("ruff"), "check", "--no-cache", ".", cwd=repo)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = run(tool("ruff"), "format", "--no-cache", "--check", "--diff", ".", cwd=repo)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    done = nbstripout(repo, *notebooks(repo), verify=True)
    assert done.returncode == 0, done.stdout + done.stderr
