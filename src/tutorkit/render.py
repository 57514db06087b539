"""The one renderer: a template folder and answers in, a folder of files out (``render``).

``tutorkit new``, ``adopt`` and ``update`` all render here, always with Copier's sandboxed Jinja
and ``unsafe=False`` (a template's ``_tasks``, ``_migrations`` and ``_jinja_extensions`` are
refused, as plain ``copier`` refuses them without ``--trust``). A template is untrusted input
(docs/guarantees.md): its ``copier.yml`` is read with bounds before Copier sees it, the
``_skip_if_exists`` patterns tutorkit renders itself go through a ``SandboxedEnvironment``, and a
rendered symbolic link is refused (its target's bytes would be read into the repo).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from tutorkit.errors import TutorkitError, UsageError, one_line
from tutorkit.untrusted import UntrustedInput, load_yaml_all, printable, repo_file

CONFIG = "copier.yml"


def template_config(tree: Path) -> dict:
    """The template's ``copier.yml`` as plain data (bounded: size, aliases, nesting; Copier's
    ``!include`` reads as None here), read once per version of the file in this process."""
    path = tree / CONFIG
    if not path.is_file():
        raise TutorkitError(f"the template has no {CONFIG}")
    stat = path.stat()
    return copy.deepcopy(_config(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _config(path: Path, _mtime: int, _size: int) -> dict:
    what = f"the template's {CONFIG}"
    documents = load_yaml_all(repo_file(path.parent, path), what, unknown_tags=True)
    config: dict = {}
    for document in documents:  # Copier merges a copier.yml of several documents, in order
        if isinstance(document, dict):
            config.update(document)
        elif document is not None:
            raise UntrustedInput(f"{what} is not a mapping of questions")
    return config


def questions(tree: Path) -> set[str]:
    """The names of the template's questions."""
    return {str(k) for k in template_config(tree) if not str(k).startswith("_")}


def parse_data(pairs: list[str], tree: Path) -> dict[str, str]:
    """``key=value`` answers, refusing keys the template does not ask about."""
    if not pairs:
        return {}
    asked = questions(tree)
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f'The answer "{printable(pair)}" is not of the form key=value.')
        if key not in asked:
            raise UsageError(
                f'The template asks no question "{printable(key)}": use one of '
                f"{', '.join(sorted(asked))}."
            )
        data[key] = value
    return data


def unversioned(template_dir: Path, scratch: Path) -> Path:
    """The template as a plain folder.

    In a source checkout the template is a git repo's root, which Copier would clone at HEAD
    with uncommitted changes on top; a plain copy renders what this install ships, faster.
    """
    if not (template_dir / ".git").exists():
        return template_dir
    scratch.mkdir()
    shutil.copy2(template_dir / CONFIG, scratch / CONFIG)
    shutil.copytree(template_dir / "templates", scratch / "templates")
    return scratch


_ENVIRONMENTS: dict[tuple, object] = {}  # one compiled Jinja environment per template folder
_CONFIGS: dict[tuple, object] = {}  # Copier's reading of each template's copier.yml


@contextlib.contextmanager
def _compiled_once():
    """Copier builds a new Jinja environment for every render, and so compiles each of the
    template's ~290 files again: most of a render's time. A fleet update renders the same two
    template folders (the extracted tags) for every repo, with other answers; the answers are
    given to each ``render`` call, not kept in the environment, so one environment per template
    folder, settings and extensions serves every render of it in this process. Where Copier's
    internals differ (another version), nothing is changed."""
    from functools import cached_property

    import copier._main
    import copier._template

    worker = copier._main.Worker
    original = worker.__dict__.get("jinja_env")
    if not isinstance(original, cached_property):
        yield
        return

    def shared(self):
        template = self.template
        key = (
            str(template.local_abspath),
            repr(sorted(template.envops.items())),
            tuple(map(str, template.jinja_extensions)),
        )
        if key not in _ENVIRONMENTS:
            _ENVIRONMENTS[key] = _compiling_strings_once(original.func(self))
        return _ENVIRONMENTS[key]

    replacement = cached_property(shared)
    replacement.__set_name__(worker, "jinja_env")
    worker.jinja_env = replacement
    config_loader = copier._template.load_template_config
    copier._template.load_template_config = _read_config_once(config_loader)
    try:
        yield
    finally:
        worker.jinja_env = original
        copier._template.load_template_config = config_loader


def _compiling_strings_once(env):
    """``env``, whose ``from_string`` compiles each string once (Copier renders every path,
    question and default through it, again for every repo). A template keeps no answers: they
    are given to ``render``."""
    compiled: dict[str, object] = {}
    plain = env.from_string

    def from_string(source, globals=None, template_class=None):
        if globals or template_class or not isinstance(source, str):
            return plain(source, globals, template_class)
        if source not in compiled:
            if len(compiled) > 4096:
                compiled.clear()
            compiled[source] = plain(source)
        return compiled[source]

    env.from_string = from_string
    return env


def _read_config_once(load):
    """Copier's ``load_template_config``, reading each version of a template's copier.yml once
    (a fresh copy each time: Copier may change what it gets)."""

    def load_template_config(conf_path, quiet: bool = False):
        stat = Path(conf_path).stat()
        key = (str(conf_path), stat.st_mtime_ns, stat.st_size, quiet)
        if key not in _CONFIGS:
            _CONFIGS[key] = load(conf_path, quiet)
        return copy.deepcopy(_CONFIGS[key])

    return load_template_config


@contextlib.contextmanager
def _without_git_probes():
    """Copier, rendering a plain folder into a scratch folder, need not ask git anything.

    For every file it writes, Copier runs ``git config core.fileMode`` in the destination (to
    sync executable bits into a git index), and for a template folder that is not a git repo it
    runs ``git init`` + ``git bundle verify`` in a temporary folder. Neither applies to a render
    from a plain template folder into a scratch folder; skipping them makes a render about a
    third faster. Where Copier's internals differ (another version), nothing is changed.
    """
    import copier._main
    import copier._template

    modules = [m for m in (copier._main, copier._template) if hasattr(m, "is_git_available")]
    saved = [m.is_git_available for m in modules]
    for module in modules:
        module.is_git_available = lambda: False
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.is_git_available = original


def render(
    tree: Path,
    dest: Path,
    data: dict,
    *,
    defaults: bool = True,
    user_defaults=None,
    reuse: bool = False,
):
    """Render the template folder ``tree`` with ``data`` (answers) into ``dest``.

    Returns Copier's worker (its ``answers``). An answer the template's validators refuse is a
    ``UsageError``; any other refusal by Copier a ``TutorkitError``; both one sentence. With
    ``reuse`` (a folder that does not change, rendered again and again: a fleet update's
    extracted tags), its compiled templates are kept for the next render.
    """
    import copier
    from copier.errors import CopierError

    template_config(tree)  # bounded first: Copier's own YAML loader has no alias bound
    try:
        shared = _compiled_once() if reuse else contextlib.nullcontext()
        with warnings.catch_warnings(), _without_git_probes(), shared:
            warnings.simplefilter("ignore")
            return copier.run_copy(
                str(tree),
                dest,
                data=data,
                user_defaults=user_defaults or {},
                defaults=defaults,
                quiet=True,
                overwrite=True,
                unsafe=False,
            )
    except (ValueError, TypeError) as exc:  # an answer the template's validators refuse
        raise UsageError(printable(one_line(exc)).rstrip(".")) from exc
    except CopierError as exc:
        raise TutorkitError(printable(one_line(exc)).rstrip(".")) from exc


def rendered_files(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file a render wrote: path -> (bytes, executable). A rendered symbolic link is
    refused: reading it would copy its target's bytes (any file of this machine) into a repo."""
    found = {}
    for dirpath, dirs, names in os.walk(root):
        for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(dirpath, d)))]:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise UntrustedInput(
                    f"the template renders {printable(rel)} as a symbolic link: tutorkit does "
                    "not write links from a template"
                )
            found[rel] = (path.read_bytes(), os.access(path, os.X_OK))
    return found


def owned_matcher(tree: Path, data: dict) -> Callable[[str], bool]:
    """Whether a path is the author's once created (the template's ``_skip_if_exists``).

    The patterns are rendered as Copier renders them, in a sandbox: a pattern that tries to
    reach Python objects is a refusal of the template, never code that runs.
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment
    from pathspec import GitIgnoreSpec

    patterns = template_config(tree).get("_skip_if_exists") or []
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    rendered = []
    for pattern in patterns if isinstance(patterns, list) else [patterns]:
        try:
            rendered.append(env.from_string(str(pattern)).render(**data))
        except jinja2.exceptions.SecurityError as exc:
            raise UntrustedInput(
                f"the template's _skip_if_exists pattern {printable(pattern)!r} is refused by "
                f"the sandbox ({printable(one_line(exc))})"
            ) from None
        except jinja2.TemplateError:
            rendered.append(str(pattern))
    spec = GitIgnoreSpec.from_lines(rendered)  # Copier matches them as .gitignore lines
    return spec.match_file
