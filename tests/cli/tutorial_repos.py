"""Tutorial repos as authors have them, built by the tests (no download, no GitHub).

Each has what real companion repos have and the starter never does: notebooks in nested
folders with spaces in their names, a `legacy/` folder of notebooks that no longer import,
no requirements file, its own `.gitignore` that ignores `__pycache__/`, a README with CRLF
line ends that starts with a blank line and a `##` heading (or a reStructuredText title),
helper scripts, and an origin remote on github.com.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from cli_support import commit_all
from support import git

# How the vision repo's notebooks run (its notebooks.toml, as the tests and benchmarks add it).
VISION_POLICY = """\
[[notebook]]
path = "legacy/*"
skip = "the pre-2.0 API, kept for readers of the 2021 article"

[[notebook]]
path = "chapters/*/Train a CNN.ipynb"
parameters = { steps = 20 }
timeout = 120

[[notebook]]
path = "chapters/part 2/Big model on a GPU.ipynb"
needs = ["gpu"]
"""

GITIGNORE = "__pycache__/\n*.py[cod]\n.ipynb_checkpoints/\n.DS_Store\ndata/\n*.ckpt\n"


def notebook(path: Path, *sources: str, parameters: str = "") -> None:
    """A notebook of markdown cells (a source starting with #) and code cells; ``parameters``
    becomes a code cell tagged `parameters`, as papermill finds it."""
    nb = nbformat.v4.new_notebook()
    cells = [
        nbformat.v4.new_markdown_cell(s) if s.startswith("#") else nbformat.v4.new_code_cell(s)
        for s in sources
    ]
    if parameters:
        cell = nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})
        cells.insert(1, cell)
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = str(i)  # as nbstripout leaves them
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _repo(root: Path, name: str, owner: str) -> Path:
    repo = root.absolute() / name
    (repo).mkdir(parents=True)
    (repo / ".gitignore").write_text(GITIGNORE)
    git(root, "init", "--quiet", str(repo))
    git(repo, "remote", "add", "origin", f"https://github.com/{owner}/{name}.git")
    return repo


def vision_repo(root: Path) -> Path:
    """PyTorch vision lectures (the imports say so; the code runs on numpy alone)."""
    repo = _repo(root, "vision-lectures", "ada")
    (repo / "README.md").write_bytes(
        b"\r\n## Vision Lectures\r\n\r\n"
        b"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](#)\r\n\r\n"
        b"Convolutional networks from scratch, one *lecture* a week.\r\n"
    )
    torch = "try:\n    import torch  # noqa: F401\nexcept ImportError:\n    torch = None"
    notebook(
        repo / "01 Intro" / "Getting started.ipynb",
        "# Getting started",
        f"{torch}\nimport math\nimport warnings\nprint('pi is', round(math.pi, 2))\n"
        "warnings.warn('plots move to utils.show in the next lecture', FutureWarning)",
    )
    notebook(
        repo / "chapters" / "part 2" / "cnn" / "Train a CNN.ipynb",
        "# Train a CNN",
        f"{torch}\nfor step in range(steps):\n    loss = 1 / (step + 1)\nprint('steps', steps)",
        parameters="steps = 50_000_000  # the full run: minutes",
    )
    notebook(
        repo / "chapters" / "part 2" / "Big model on a GPU.ipynb",
        "# Needs a GPU",
        f"{torch}\nimport os\nassert os.environ.get('CUDA_VISIBLE_DEVICES'), 'no GPU here'",
    )
    notebook(repo / "legacy" / "old api.ipynb", "# Old", "from torch.legacy import nn")
    (repo / "utils").mkdir()
    (repo / "utils" / "plots.py").write_text("import torch\n\n\ndef show(x):\n    return x\n")
    commit_all(repo, "Lectures")
    return repo


def keras_repo(root: Path) -> Path:
    """A Keras course with a reStructuredText README and a notebook that downloads IMDB."""
    repo = _repo(root, "keras-course", "bob")
    (repo / "README.rst").write_bytes(
        b"Keras Course\r\n============\r\n\r\nHands-on Keras, one notebook a week.\r\n"
    )
    keras = "try:\n    import keras  # noqa: F401\nexcept ImportError:\n    keras = None"
    notebook(repo / "week 1" / "intro.ipynb", "# Intro", f"{keras}\nprint(sum(range(10)))")
    notebook(
        repo / "week 2" / "IMDB sentiment.ipynb",
        "# IMDB",
        f"{keras}\nimport urllib.request\n"
        "urllib.request.urlopen('https://ai.stanford.edu/', timeout=5)",
    )
    notebook(repo / "legacy" / "tf1 graph.ipynb", "# TF1", "import tensorflow.compat.v1 as tf")
    commit_all(repo, "Course")
    return repo
