"""Rules about the repo's files: notebooks, configs, seeds, CI, demo text, the owner's name."""

from __future__ import annotations

import re

from tutorkit.checks.facts import Facts
from tutorkit.checks.rule import Rule
from tutorkit.errors import one_line
from tutorkit.repos import ANSWERS_FILE
from tutorkit.untrusted import UntrustedInput

SEED_CALL = re.compile(
    r"\b(manual_seed|set_random_seed|set_seed|seed_everything|random\.seed)\s*\("
)
DEMO_MARKER = "TUTORIAL-DEMO"
PLACEHOLDER_OWNER = "your-github-name"


def _notebook_problem(facts: Facts, name: str) -> str:
    """What is wrong with one notebook ("" when nothing)."""
    import nbformat

    try:
        data = facts.json(name)
    except UntrustedInput as exc:
        if "conflict markers" in str(exc):
            return f"{name} is not valid JSON: a text merge left <<<<<<< lines in it (TK120)"
        return f"{name} is not a valid notebook: {exc}"
    try:
        nb = nbformat.convert(nbformat.from_dict(data), 4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001  (nbformat raises several kinds)
        return f"{name} is not a valid notebook: {one_line(exc)[:120]}"
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    return f"{name} has outputs in cells {dirty}" if dirty else ""


UNREADABLE_FIX = (
    "A notebook that is not valid JSON cannot be stripped: resolve the conflict markers an "
    "update left in it as TK120 says, or restore it from git (`git checkout -- PATH`), and commit."
)


class NotebooksStripped(Rule):
    """Notebooks are valid nbformat and committed without outputs."""

    id = "TK102"
    fix = "Run `nbstripout` on the notebooks (or `pre-commit run --all-files`) and commit."
    fixes = {
        "infrastructure": (
            "Strip the outputs as CI checks them: `pre-commit run nbstripout --all-files` "
            "(pip install pre-commit), then commit."
        )
    }

    def fix_for(self, layout: str, problems: list[str]) -> str:
        """Stripping for outputs; repairing for a notebook that is not one (never both when
        only one applies)."""
        unreadable = [p for p in problems if "has outputs" not in p and "no notebook" not in p]
        if not unreadable:
            return super().fix_for(layout, problems)
        if len(unreadable) == len(problems):
            return UNREADABLE_FIX
        return f"{super().fix_for(layout, problems)} {UNREADABLE_FIX}"

    def problems(self, facts: Facts) -> list[str]:
        if not facts.notebooks:
            return ["the repo has no notebook"]
        return list(filter(None, (_notebook_problem(facts, name) for name in facts.notebooks)))


def _config_seed(facts: Facts, rel: str, seen: tuple[str, ...] = ()) -> object:
    """The ``seed`` of a config, following ``extends:`` to the config it builds on."""
    data = facts.yaml(rel)
    if not isinstance(data, dict):
        raise UntrustedInput(f"{rel} is not a mapping")
    if "seed" in data or not data.get("extends") or rel in seen:
        return data.get("seed")
    parent = f"{rel.rsplit('/', 1)[0]}/{data['extends']}"
    return _config_seed(facts, parent, (*seen, rel))


class ConfigsLoad(Rule):
    """Every configs/*.yaml parses and has a seed (directly or through `extends:`)."""

    id = "TK104"
    layouts = ("starter",)  # an adopted repo has no configs/ from the template
    fix = "Fix the YAML syntax and give the config a `seed:` (or `extends:` a config that has one)."

    def problems(self, facts: Facts) -> list[str]:
        configs = facts.files("configs/*.yaml")
        if not configs:
            return ["no configs/*.yaml"]
        found = []
        for name in configs:
            try:
                seed = _config_seed(facts, name)
            except UntrustedInput as exc:
                found.append(f"{name} does not load: {one_line(exc)[:160]}")
                continue
            if not isinstance(seed, int):
                found.append(f"{name} has no integer seed")
        return found


class SeedsSet(Rule):
    """The tutorial's package seeds every random generator from the config's seed."""

    id = "TK105"
    layouts = ("starter",)  # an adopted repo has no src/<package>/ from the template
    fix = (
        "Call the seeding function (torch.manual_seed, keras.utils.set_random_seed) "
        "from src/<package>/."
    )

    def problems(self, facts: Facts) -> list[str]:
        package = facts.package
        code = facts.files(f"src/{package}/**/*.py")
        if not code:
            return [f"no Python code in src/{package}/"]
        found = []
        if not any(SEED_CALL.search(facts.text(name)) for name in code):
            found.append(f"no code in src/{package}/ calls a seeding function")
        try:
            if facts.is_file("configs/default.yaml") and not isinstance(
                _config_seed(facts, "configs/default.yaml"), int
            ):
                found.append("configs/default.yaml has no seed")
        except UntrustedInput:
            pass  # reported by TK104
        return found


class CIWorkflow(Rule):
    """CI runs the notebooks on a weekly schedule (.github/workflows/notebooks.yml)."""

    id = "TK106"
    fix = "Restore .github/workflows/notebooks.yml from the template (`tutorkit update`)."

    def problems(self, facts: Facts) -> list[str]:
        rel = ".github/workflows/notebooks.yml"
        if not facts.is_file(rel):
            return [f"{rel} is missing"]
        workflow = facts.yaml(rel)
        # YAML 1.1 reads the key `on` as True.
        triggers = workflow.get("on", workflow.get(True)) if isinstance(workflow, dict) else None
        if not isinstance(triggers, dict) or not triggers.get("schedule"):
            return ["notebooks.yml has no `schedule:` trigger"]
        return []


def _files_containing(facts: Facts, patterns: tuple[str, ...], needle: str) -> dict[str, int]:
    """Relative path -> how often ``needle`` occurs, for the files matching ``patterns``."""
    names = sorted({name for pattern in patterns for name in facts.files(pattern)})
    counts = {name: facts.text(name).count(needle) for name in names}
    return {name: count for name, count in counts.items() if count}


# The demo data sets of the template's members: (name in configs, what data.py reads).
DEMO_DATA = {"digits": "load_digits", "sentences": "sentences.csv"}


def _uses_demo_data(facts: Facts, package: str) -> bool:
    """Whether the tutorial still trains on the template's demo data (scikit-learn's digits, or
    the text member's shipped sentences)."""
    data = f"src/{package}/data.py"
    try:
        config = facts.yaml("configs/default.yaml") or {}
    except (OSError, UntrustedInput):
        config = {}
    dataset = (config.get("data") or {}).get("dataset") if isinstance(config, dict) else None
    reads = DEMO_DATA.get(str(dataset))
    return bool(reads) and facts.is_file(data) and reads in facts.text(data)


class DemoTextReplaced(Rule):
    """No demo passage (marked TUTORIAL-DEMO) is left once the tutorial has its own data."""

    id = "TK107"
    severity = "warn"
    layouts = ("starter",)  # an adopted repo never had the demo
    fix = (
        "Replace each passage marked TUTORIAL-DEMO with your tutorial's and delete the marker "
        "(list them with `git grep -n TUTORIAL-DEMO`; AUTHORING.md says what goes where)."
    )

    def problems(self, facts: Facts) -> list[str]:
        package = facts.package
        if _uses_demo_data(facts, package):
            return []
        patterns = ("README.md", "notebooks/*.ipynb", f"src/{package}/**/*.py", "configs/*.yaml")
        found = _files_containing(facts, patterns, DEMO_MARKER)
        return [
            f"{name} still has {n} demo passage(s) marked {DEMO_MARKER}"
            for name, n in found.items()
        ]


class OwnerNamed(Rule):
    """Badges and links name the repo's GitHub owner, not the placeholder your-github-name."""

    id = "TK108"
    severity = "warn"
    fix = (
        "Run `copier update --defaults --vcs-ref=:current: -d github_owner=YOUR-NAME` (your "
        "GitHub user or organisation; the template's files, at this repo's version), then "
        "replace your-github-name in README.md and CITATION.cff (yours once created: no update "
        "changes them), and commit."
    )
    fixes = {
        "infrastructure": (
            "Run `copier update --defaults --vcs-ref=:current: -d github_owner=YOUR-NAME` (your "
            "GitHub user or organisation) and commit: only the files the template added name "
            "the owner."
        )
    }

    def problems(self, facts: Facts) -> list[str]:
        patterns = ("README.md", "notebooks/*.ipynb", "CITATION.cff", ANSWERS_FILE)
        if facts.layout == "infrastructure":
            patterns = (ANSWERS_FILE,)
        found = _files_containing(facts, patterns, PLACEHOLDER_OWNER)
        return [f"{name} names the placeholder owner {PLACEHOLDER_OWNER}" for name in found]


POLICY = "notebooks.toml"
POLICY_KEYS = {"path", "skip", "timeout", "parameters", "needs", "retries"}
NEED = re.compile(r"^(gpu|network|secret:[A-Za-z_][A-Za-z0-9_]*)$")


def _entry_problems(number: int, entry: object, notebooks: list[str]) -> list[str]:
    """What is wrong with one [[notebook]] entry of notebooks.toml."""
    import fnmatch

    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return [f"{POLICY}: notebook entry {number} has no `path`"]
    where = f"{POLICY}: `{entry['path']}`"
    found = [f"{where}{problem}" for problem in _value_problems(entry)]
    if not any(fnmatch.fnmatchcase(name, entry["path"]) for name in notebooks):
        found.append(f"{where} matches no notebook")
    return found


def _value_problems(entry: dict) -> list[str]:
    """Unknown keys, a skip without a reason, needs that are not gpu, network or secret:NAME."""
    found = []
    if set(entry) - POLICY_KEYS:
        found.append(f" has unknown keys {sorted(set(entry) - POLICY_KEYS)}")
    if "skip" in entry and not (isinstance(entry["skip"], str) and entry["skip"].strip()):
        found.append(": `skip` needs a reason (a sentence every report shows)")
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) and NEED.match(n) for n in needs):
        found.append(": `needs` lists only gpu, network and secret:NAME")
    return found


class NotebookPolicy(Rule):
    """notebooks.toml (when there is one) tells CI how each notebook runs."""

    id = "TK109"
    fix = (
        "Edit notebooks.toml: each [[notebook]] has a `path` glob that matches a notebook, and "
        "only skip (with a reason), timeout, parameters, needs (gpu, network, secret:NAME) and "
        "retries; docs/adopting.md shows one."
    )

    def problems(self, facts: Facts) -> list[str]:
        if not facts.is_file(POLICY):
            return []
        entries = facts.toml(POLICY).get("notebook", [])
        if not isinstance(entries, list):
            return [f"{POLICY}: `notebook` must be a list of [[notebook]] tables"]
        found = []
        for number, entry in enumerate(entries, 1):
            found += _entry_problems(number, entry, facts.notebooks)
        return found
