"""Launch links of every generated repo: badges and links well-formed, pointing at real files.

Checked offline: every link in the rendered README and notebooks parses as a web address
(or a relative path that exists), and every link into the repo itself (GitHub blob/tree,
Colab, Binder's labpath, the workflow badge) names the owner, repo and default branch from
the answers and a file that exists in the render.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import nbformat
import pytest

ANSWER_SETS = {
    "defaults": {},
    "custom": {
        "github_owner": "ada-lab",
        "repo_name": "digits.cnn_2026",
        "default_branch": "release/v1",
        "article_url": "https://example.org/blog/digits?part=1",
        "framework": "pytorch",
    },
    "text": {"task": "text-classification", "github_owner": "ada-lab"},
}
MARKDOWN_LINK = re.compile(r"\]\(([^()\s]+)\)")
URL_IN_CODE = re.compile(r"https?://[^\s\"'`)<>\]]+")


@pytest.fixture(scope="module", params=sorted(ANSWER_SETS))
def repo(request, render, tmp_path_factory) -> Path:
    return render(
        tmp_path_factory.mktemp(f"links-{request.param}") / "repo", **ANSWER_SETS[request.param]
    )


def answers(repo: Path) -> dict:
    import yaml

    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def notebook_paths(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo).as_posix() for p in (repo / "notebooks").glob("*.ipynb"))


def markdown_sources(repo: Path) -> dict[str, str]:
    """README.md and every notebook's markdown cells, by name."""
    sources = {"README.md": (repo / "README.md").read_text()}
    for path in notebook_paths(repo):
        notebook = nbformat.read(repo / path, as_version=4)
        sources[path] = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return sources


def links(text: str) -> list[str]:
    return MARKDOWN_LINK.findall(text)


def check_link_into_repo(repo: Path, url: str, owner: str, name: str, branch: str) -> str | None:
    """The repo path a link points at (asserting owner/repo/branch), or None if it is external."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc == "colab.research.google.com" and path.startswith("/github/"):
        prefix = f"/github/{owner}/{name}/blob/{branch}/"
        assert path.startswith(prefix), f"{url} does not start with {prefix}"
        return path[len(prefix) :]
    if parts.netloc == "kaggle.com" and path == "/kernels/welcome":
        # The form of Kaggle's "Open in Kaggle" badge: ?src=<the notebook's GitHub blob URL>.
        (source,) = parse_qs(parts.query)["src"]
        prefix = f"https://github.com/{owner}/{name}/blob/{branch}/"
        assert source.startswith(prefix), f"{url} does not open {prefix}..."
        return source[len(prefix) :]
    if parts.netloc == "mybinder.org" and path.startswith("/v2/"):
        assert parts.path == f"/v2/gh/{owner}/{name}/{branch.replace('/', '%2F')}", url
        assert (repo / "environment.yml").is_file(), "Binder builds from environment.yml"
        query = parse_qs(parts.query)
        assert set(query) <= {"labpath", "urlpath"}, url
        (target,) = query["labpath"]
        return target
    if parts.netloc == "github.com" and path.startswith(f"/{owner}/{name}/"):
        rest = path[len(f"/{owner}/{name}/") :]
        if rest.startswith(("blob/", "tree/")):
            prefix = f"{rest[:4]}/{branch}/"
            assert rest.startswith(prefix), f"{url} is not on branch {branch}"
            return rest[len(prefix) :]
        workflow = re.fullmatch(r"actions/workflows/([\w.-]+\.ya?ml)(/badge\.svg)?", rest)
        assert workflow, f"unexpected link into the repo: {url}"
        if workflow[2]:
            assert parse_qs(parts.query) == {"branch": [branch]}, url
        return f".github/workflows/{workflow[1]}"
    if parts.netloc == "github.com":
        assert not path.startswith(f"/{owner}/"), f"{url} names another repo of {owner}"
    return None


def test_every_link_is_well_formed_and_every_repo_link_exists(repo):
    a = answers(repo)
    owner, name, branch = a["github_owner"], a["repo_name"], a["default_branch"]
    checked = 0
    for source, text in markdown_sources(repo).items():
        assert "{{" not in text and "{%" not in text, f"{source}: Jinja left over"
        for url in links(text):
            parts = urlsplit(url)
            if not parts.scheme:
                target = (repo / Path(source).parent / unquote(parts.path)).resolve()
                assert target.exists(), f"{source}: relative link {url} points at nothing"
                continue
            assert parts.scheme == "https" and parts.netloc, f"{source}: {url} is not an https URL"
            assert " " not in url and "None" not in url, f"{source}: {url}"
            target = check_link_into_repo(repo, url, owner, name, branch)
            if target is not None:
                assert (repo / target).is_file(), f"{source}: {url} points at missing {target}"
                checked += 1
    assert checked >= 3


def test_readme_badges(repo):
    a = answers(repo)
    readme = (repo / "README.md").read_text()
    badges = re.findall(r"\[!\[([^\]]+)\]\(([^)]+)\)\]\(([^)]+)\)", readme)
    by_alt = {alt: (image, target) for alt, image, target in badges}
    assert {"notebooks", "Open In Colab", "Binder", "Open In Kaggle"} <= set(by_alt)
    image, target = by_alt["Open In Kaggle"]
    assert image == "https://kaggle.com/static/images/open-in-kaggle.svg"
    assert target == (
        f"https://kaggle.com/kernels/welcome?src=https://github.com/{a['github_owner']}/"
        f"{a['repo_name']}/blob/{a['default_branch']}/notebooks/01-quickstart.ipynb"
    )
    image, target = by_alt["notebooks"]
    assert (
        target
        == f"https://github.com/{a['github_owner']}/{a['repo_name']}/actions/workflows/notebooks.yml"
    )
    assert image.startswith(target + "/badge.svg?branch=")
    assert (repo / ".github/workflows/notebooks.yml").is_file()
    # A Colab badge for every notebook.
    colab_targets = {t for alt, _, t in badges if alt == "Open In Colab"}
    for path in notebook_paths(repo):
        assert any(t.endswith(f"/blob/{a['default_branch']}/{path}") for t in colab_targets), path
    if a["article_url"]:
        assert f"]({a['article_url']})" in readme


def test_each_notebook_opens_with_a_colab_badge_and_setup_cell(repo):
    a = answers(repo)
    clone_url = f"https://github.com/{a['github_owner']}/{a['repo_name']}.git"
    for path in notebook_paths(repo):
        notebook = nbformat.read(repo / path, as_version=4)
        nbformat.validate(notebook)
        intro = notebook.cells[0]
        assert intro.cell_type == "markdown"
        expected = (
            f"https://colab.research.google.com/github/{a['github_owner']}/{a['repo_name']}"
            f"/blob/{a['default_branch']}/{path}"
        )
        assert f"]({expected})" in intro.source, f"{path}: no Colab badge for itself"
        first_code = next(c for c in notebook.cells if c.cell_type == "code")
        source = first_code.source
        assert '"google.colab" in sys.modules' in source, f"{path}: the Colab cell must come first"
        assert f'REPO = "{clone_url}"' in source
        assert f'BRANCH = "{a["default_branch"]}"' in source
        assert "pip" in source and "install" in source
        compile(source, path, "exec")
        # Every URL the code cells name is well-formed.
        for cell in notebook.cells:
            if cell.cell_type == "code":
                for url in URL_IN_CODE.findall(cell.source):
                    parts = urlsplit(url)
                    assert parts.scheme == "https" and parts.netloc, f"{path}: {url}"


def test_the_colab_cell_does_nothing_outside_colab(repo, tmp_path, monkeypatch):
    """Run the first code cell here: not on Colab, it must not clone, install or chdir."""
    for path in notebook_paths(repo):
        notebook = json.loads((repo / path).read_text())
        first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        monkeypatch.chdir(tmp_path)
        calls: list = []
        monkeypatch.setattr("subprocess.run", lambda *args, _calls=calls, **_: _calls.append(args))
        exec(compile("".join(first_code["source"]), path, "exec"), {})  # noqa: S102
        assert calls == [] and Path.cwd() == tmp_path


def test_on_kaggle_the_setup_cell_clones_and_installs_into_kaggle_working(
    repo, tmp_path, monkeypatch
):
    """Kaggle sets KAGGLE_KERNEL_RUN_TYPE in its notebooks: the first cell then clones the repo
    into /kaggle/working, installs its package and moves into its notebooks folder (the calls
    are recorded here, not made: Kaggle cannot be reached from this machine)."""
    a = answers(repo)
    checkout = f"/kaggle/working/{a['repo_name']}"
    for path in notebook_paths(repo):
        notebook = json.loads((repo / path).read_text())
        first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
        calls: list = []
        monkeypatch.setattr("subprocess.run", lambda args, _calls=calls, **_: _calls.append(args))
        monkeypatch.setattr("os.chdir", lambda folder, _calls=calls: _calls.append(folder))
        exec(compile("".join(first_code["source"]), path, "exec"), {})  # noqa: S102
        clone, install, moved = calls
        assert clone[:3] == ["git", "clone", "--depth"] and clone[-1] == checkout
        assert install[1:] == ["-m", "pip", "install", "--quiet", checkout]
        assert moved == f"{checkout}/notebooks"
