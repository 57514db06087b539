"""The one renderer (tutorkit.render): what it keeps between renders changes no byte."""

from __future__ import annotations

import shutil

from support import CHECKOUT

from tutorkit.render import render, rendered_files


def test_reused_compiled_templates_render_what_fresh_ones_do(tmp_path):
    """A fleet update renders the same template folder for every repo with other answers, and
    keeps its compiled templates between renders (``reuse``): each render is byte for byte what
    a fresh render with the same answers gives, whatever was rendered before it."""
    tree = tmp_path / "template"
    tree.mkdir()
    shutil.copy2(CHECKOUT / "copier.yml", tree / "copier.yml")
    shutil.copytree(CHECKOUT / "templates", tree / "templates")
    answers = [
        {"project_title": "Digits with a CNN"},
        {"project_title": "Wine, by Keras", "framework": "tensorflow", "license": "Apache-2.0"},
        {"project_title": "Digits with a CNN", "layout": "infrastructure"},
    ]
    for n, data in enumerate(answers * 2):
        render(tree, tmp_path / f"reused-{n}", data, reuse=True)
    for n, data in enumerate(answers):
        render(tree, tmp_path / f"fresh-{n}", data)
        for again in (n, n + len(answers)):
            reused = rendered_files(tmp_path / f"reused-{again}")
            assert reused == rendered_files(tmp_path / f"fresh-{n}")
