"""The documentation site builds with `mkdocs build --strict`, and agrees with the CLI.

The site is built once per session into a temporary folder (never into the repo). The rules of
`tutorkit check` and the CLI reference are compared with the code they document.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import CHECKOUT

from tutorkit import checks
from tutorkit.cli import build_parser

DOCS = CHECKOUT / "docs"
RULE_ANCHOR = re.compile(r"^## (TK\d{3})\b.*\{#(tk\d{3})\}\s*$", re.M)


def mkdocs_config() -> dict:
    # mkdocs.yml holds no !!python tags, so a safe loader reads it.
    return yaml.safe_load((CHECKOUT / "mkdocs.yml").read_text())


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    before = sorted(p.name for p in CHECKOUT.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    assert sorted(p.name for p in CHECKOUT.iterdir()) == before, "the build wrote into the repo"
    return site_dir


def page_html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def test_site_builds_strict_outside_the_repo(site):
    assert (site / "index.html").is_file()
    assert (site / "search" / "search_index.json").is_file()


def test_every_page_is_in_the_navigation():
    def pages(nav) -> set[str]:
        found = set()
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            found |= pages(value) if isinstance(value, list) else {value}
        return found

    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages(mkdocs_config()["nav"]) == on_disk


def test_no_plugin_needs_the_network():
    config = mkdocs_config()
    names = {p if isinstance(p, str) else next(iter(p)) for p in config.get("plugins", [])}
    assert names <= {"search"}, names
    assert config["theme"].get("font") is False, "Google Fonts would be fetched by every reader"


def rule_ids() -> set[str]:
    """Every rule `tutorkit check` can report (static ones and those behind --run)."""
    found, todo = set(), list(checks.Rule.__subclasses__())
    while todo:
        rule = todo.pop()
        todo += rule.__subclasses__()
        found.add(rule.id)
    return found


def test_every_rule_has_its_anchor_and_every_anchor_its_rule(site):
    headings = RULE_ANCHOR.findall((DOCS / "checks.md").read_text())
    assert all(anchor == rule.lower() for rule, anchor in headings), headings
    assert {rule for rule, _ in headings} == rule_ids()
    built = page_html(site, "checks")
    for rule in rule_ids():
        assert f'id="{rule.lower()}"' in built, rule


def docs_page_of(url: str) -> str:
    """The docs/ source page a documentation URL of the CLI points at (GitHub or the site)."""
    site_url = mkdocs_config()["site_url"]
    repo_url = mkdocs_config()["repo_url"]
    if url.startswith(f"{repo_url}/blob/"):
        path = url.removeprefix(f"{repo_url}/blob/").split("/", 1)[1]
        assert path.startswith("docs/"), url
        return path.removeprefix("docs/")
    assert url.startswith(site_url), f"{url} is neither on {repo_url} nor on {site_url}"
    return url.removeprefix(site_url).rstrip("/") + ".md"


def test_the_cli_links_each_rule_to_its_anchor():
    from tutorkit.checks.colab import ColabInstalls, ColabRuntime

    optional = [checks.NotebooksRun(), ColabInstalls(ColabRuntime("3.12.0", {}))]
    for rule in [*checks.STATIC_RULES, *optional]:
        page, _, anchor = rule.url.partition("#")
        assert anchor == rule.id.lower(), rule.url
        assert docs_page_of(page) == "checks.md", rule.url
    assert rule_ids() == {r.id for r in [*checks.STATIC_RULES, *optional]}


def subcommands(
    parser: argparse.ArgumentParser | None = None,
) -> dict[str, argparse.ArgumentParser]:
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    return cli_reference.subcommands(parser or build_parser())


def test_cli_reference_shows_every_subcommand_and_option(site):
    built = html.unescape(re.sub(r"<[^>]+>", "", page_html(site, "reference/cli")))
    assert "tutorkit-cli-reference" not in built, "the marker was not replaced"
    commands = subcommands()
    assert set(commands) == {"new", "adopt", "update", "status", "check", "fleet", "deps", "lock"}
    nested = subcommands(commands["fleet"])
    assert set(nested) == {"init", "clone", "rollout"}
    commands |= {f"fleet {action}": parser for action, parser in nested.items()}
    for name, parser in commands.items():
        assert f"usage: tutorkit {name}" in built, name
        for action in parser._actions:
            for option in action.option_strings:
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", built), (name, option)
            if not action.option_strings and action.metavar:
                assert action.metavar in built, (name, action.metavar)
        assert parser.description.split()[0] in built
