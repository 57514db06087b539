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


def test_what_is_kept_belongs_to_one_template_folder(tmp_path):
    """Two template folders (two releases) rendered one after the other, kept compiled: each
    render shows its own folder's files, never the other's."""
    trees = []
    for name, line in (("old", ""), ("new", "A line of the new release.\n")):
        tree = tmp_path / name
        tree.mkdir()
        shutil.copy2(CHECKOUT / "copier.yml", tree / "copier.yml")
        shutil.copytree(CHECKOUT / "templates", tree / "templates")
        readme = tree / "templates" / "project" / "README.md.jinja"
        readme.write_text(readme.read_text() + line)
        trees.append(tree)
    for round_ in range(2):
        for tree in trees:
            render(tree, tmp_path / f"{tree.name}-{round_}", {"project_title": "T"}, reuse=True)
    for round_ in range(2):
        old = (tmp_path / f"old-{round_}" / "README.md").read_text()
        new = (tmp_path / f"new-{round_}" / "README.md").read_text()
        assert new == old + "A line of the new release.\n"


def test_a_template_config_with_copiers_include_tag_is_read(tmp_path):
    """Copier's `!include` tag in copier.yml is not a refusal: tutorkit reads what it needs
    (its `_skip_if_exists`) and leaves the include to Copier."""
    from tutorkit.render import owned_matcher

    tree = tmp_path / "template"
    tree.mkdir()
    (tree / "copier.yml").write_text(
        "---\n!include shared/questions.yml\n---\n_skip_if_exists:\n  - README.md\n"
    )
    assert owned_matcher(tree, {})("README.md")
