"""`tutorkit status` and `tutorkit check` on real generated repos."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from cli_support import NEW, OLD, commit_all, shim_environment, tk_subprocess


def test_status_of_a_fleet(make_repo, tk):
    make_repo("behind")
    current = make_repo("current")
    answers = current / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(OLD, NEW))
    broken = make_repo("broken")
    (broken / ".copier-answers.yml").write_text("_src_path: [\n")
    code, out, _ = tk("status", make_repo.fleet, "--json")
    rows = {r["repo"].rsplit("/", 1)[-1]: r for r in json.loads(out)}
    assert code == 1
    assert rows["behind"] | {"repo": ""} == {
        "repo": "",
        "version": OLD,
        "latest": NEW,
        "framework": "pytorch",
        "behind": True,
        "error": "",
        "state": "behind",
    }
    assert (rows["current"]["behind"], rows["current"]["state"]) == (False, "current")
    assert "not valid YAML" in rows["broken"]["error"]


def test_status_asks_the_template_once_for_the_whole_fleet(make_repo, tk, tmp_path, monkeypatch):
    for name in ("a", "b", "c", "d"):
        make_repo(name)
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    code, out, _ = tk("status", make_repo.fleet, "--json")
    assert (code, len(json.loads(out))) == (1, 4)
    commands = [line for line in trace.read_text().splitlines() if "built-in: git" in line]
    assert len([c for c in commands if "ls-remote" in c]) == 1, commands


def test_status_table_and_exit_zero_when_all_current(make_repo, tk):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(OLD, NEW))
    code, out, _ = tk("status", repo)
    assert code == 0
    assert "current" in out and NEW in out and "pytorch" in out


def test_status_with_an_unreachable_template(make_repo, tk, tmp_path):
    repo = make_repo()
    answers = repo / ".copier-answers.yml"
    text = answers.read_text()
    src = next(line for line in text.splitlines() if line.startswith("_src_path"))
    answers.write_text(text.replace(src, f"_src_path: file://{tmp_path}/nowhere.git"))
    code, out, _ = tk("status", repo, "--json")
    [row] = json.loads(out)
    assert code == 1
    assert row["error"].startswith("Cannot list the tags of the template")


def results_of_check(tk, repo, *options):
    code, out, _ = tk("check", repo, *options, "--json")
    return code, {r["id"]: r for r in json.loads(out)}


def test_check_passes_on_a_freshly_generated_repo(make_repo, tk):
    code, results = results_of_check(tk, make_repo())
    failing = {k: v["problems"] for k, v in results.items() if v["result"] != "pass"}
    # The test fleet's template is a file:// URL, which only this machine can update from.
    assert failing.pop("TK110")[0].endswith(
        "is a folder on one machine: record the template's "
        "https URL (https://github.com/tutorkit/tutorkit.git)"
    )
    # Made with --defaults: the badges name the placeholder owner, a warning (exit 0).
    assert failing.keys() == {"TK108"} and results["TK108"]["result"] == "warn"
    assert code == 0
    assert sorted(results) == [*(f"TK10{n}" for n in range(1, 10)), "TK110", "TK120"]
    assert results["TK101"]["url"].endswith("/checks/#tk101")  # docs/checks.md {#tk101}


def _break_notebook(repo):
    path = next((repo / "notebooks").glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    code_cell = next(c for c in nb.cells if c.cell_type == "code")
    code_cell.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    code_cell.execution_count = 1
    nbformat.write(nb, path)


def _break_environment(repo):
    env = repo / "environment.yml"
    env.write_text(env.read_text().replace("numpy==", "numpy==0.0.1+", 1))


def _break_configs(repo):
    (repo / "configs" / "extra.yaml").write_text("train:\n  epochs: 1\n")


def _break_answers(repo):
    answers = repo / ".copier-answers.yml"
    text = answers.read_text()
    src = next(line for line in text.splitlines() if line.startswith("_src_path"))
    answers.write_text(text.replace(src, "_src_path: ../tutorkit").replace(OLD, "main"))


def _break_ci(repo):
    (repo / ".github" / "workflows" / "notebooks.yml").unlink()


@pytest.mark.parametrize(
    "breaker, rule, problem",
    [
        (_break_answers, "TK101", "is not a git URL"),
        (_break_notebook, "TK102", "has outputs in cells"),
        (_break_environment, "TK103", "numpy"),
        (_break_configs, "TK104", "configs/extra.yaml has no integer seed"),
        (_break_ci, "TK106", "notebooks.yml is missing"),
    ],
)
def test_check_reports_each_broken_rule(make_repo, tk, breaker, rule, problem):
    repo = make_repo()
    breaker(repo)
    commit_all(repo, "break it")
    code, results = results_of_check(tk, repo)
    assert code == 1
    failing = {k for k, v in results.items() if v["result"] == "fail"}
    assert failing == {rule}
    assert any(problem in p for p in results[rule]["problems"]), results[rule]
    assert results[rule]["fix"]


def test_check_seeds_rule(make_repo, tk):
    repo = make_repo()
    package = next((repo / "src").iterdir())
    for path in package.rglob("*.py"):
        text = path.read_text()
        for call in ("manual_seed(", "set_random_seed(", "random.seed("):
            text = text.replace(call, "no_seed(")
        path.write_text(text)
    code, results = results_of_check(tk, repo)
    assert code == 1
    assert results["TK105"]["result"] == "fail"


def test_check_of_a_missing_folder_is_one_sentence(tmp_path):
    proc = tk_subprocess("check", tmp_path / "nope")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0
    assert "is not a folder" in proc.stderr


def test_help_explains_every_command():
    proc = tk_subprocess("--help")
    assert proc.returncode == 0
    for command in ("new", "status", "update", "check"):
        assert f"tutorkit {command}" in proc.stdout
        sub = tk_subprocess(command, "--help")
        assert sub.returncode == 0 and "usage: tutorkit " + command in sub.stdout


def test_help_does_not_import_copier_or_rich():
    code = (
        "import sys; from tutorkit.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in ('copier', 'rich', 'yaml') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _one_cell_notebook(repo, source):
    for old in (repo / "notebooks").glob("*.ipynb"):
        old.unlink()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, id="0")])
    nbformat.write(nb, repo / "notebooks" / "smoke.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("passes", [True, False])
def test_check_run_executes_the_notebooks_in_smoke_mode(make_repo, tk, passes, monkeypatch):
    """TK201 runs the starter's notebooks through its runner, as its pytest and CI do:
    `TUTORIAL_PROFILE=smoke python .github/scripts/notebooks.py notebooks` (one tiny notebook),
    in the active environment; notebooks.toml's skip is honoured and named in the notes."""
    repo = make_repo()
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("VIRTUAL_ENV", str(shim_environment(repo.parent / "reader-env")))
    expected = "smoke" if passes else "full"
    _one_cell_notebook(repo, f"import os\nassert os.environ['TUTORIAL_PROFILE'] == {expected!r}")
    nbformat.write(nbformat.v4.new_notebook(), repo / "notebooks" / "by hand.ipynb")
    (repo / "notebooks.toml").write_text(
        '[[notebook]]\npath = "notebooks/by hand.ipynb"\nskip = "trains for an hour"\n'
    )
    code, results = results_of_check(tk, repo, "--run")
    tk201 = results["TK201"]
    assert tk201["result"] == ("pass" if passes else "fail"), tk201
    assert code == (0 if passes else 1)
    assert tk201["notes"] == ["notebooks/by hand.ipynb: skipped (trains for an hour)"]
    if not passes:
        [problem] = tk201["problems"]
        assert problem.startswith("notebooks/smoke.ipynb failed: cell In [1] `import os`: ")
        assert "AssertionError" in problem


def test_check_run_without_the_runner_fails_in_one_sentence(make_repo, tk, monkeypatch):
    repo = make_repo()
    monkeypatch.setenv("VIRTUAL_ENV", str(shim_environment(repo.parent / "reader-env")))
    (repo / ".github" / "scripts" / "notebooks.py").unlink()
    code, results = results_of_check(tk, repo, "--run")
    assert code == 1 and results["TK201"]["problems"] == [
        ".github/scripts/notebooks.py, the notebook runner that CI and `pytest` run, is missing: "
        "`tutorkit update` brings it back from the template (or restore it with git), then retry."
    ]
