"""Reading what tutorkit does not trust, and printing it.

Templates, every file in a repo (answers, configs, notebooks, workflows), GitHub's answers and
the package index are untrusted input (docs/guarantees.md, "Threat model"). This module is the
one place that reads them and the one place that makes text safe to print:

- ``repo_file`` reads a file of a repo only if it really lies inside the repo (no symlink or
  ``..`` leads out) and is not larger than a bound;
- ``load_yaml`` / ``load_yaml_all`` / ``load_json`` parse with bounds on size, on the size the
  document expands to through YAML aliases (a "billion laughs" is refused, not expanded) and on
  nesting;
- ``printable`` strips credentials (URL user-info, GitHub tokens) and neutralises control
  characters (terminal escape sequences, bidirectional overrides) in anything printed.

Each refusal is an ``UntrustedInput``: a ``TutorkitError`` whose message is one sentence.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from tutorkit.errors import TutorkitError

MAX_TEXT = 4 * 1024 * 1024  # a YAML or JSON document tutorkit parses (answers, configs, notebooks)
MAX_NODES = 100_000  # what a YAML document may expand to through its aliases
MAX_FILE = 64 * 1024 * 1024  # any file tutorkit reads from a repo


class UntrustedInput(TutorkitError):
    """Input from a repo, a template or a server that tutorkit refuses to use."""


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every symlink resolved, lies inside ``root`` (resolved too)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def repo_file(repo: Path, path: Path, limit: int = MAX_FILE) -> bytes:
    """The bytes of ``path``, a file of ``repo``, refused when a link leads outside the repo,
    when it is not a regular file, or when it is larger than ``limit``."""
    rel = _shown(repo, path)
    if not inside(repo, path):
        raise UntrustedInput(f"{rel} points outside the repo: tutorkit does not read it")
    if not path.is_file():
        raise UntrustedInput(f"{rel} is not a regular file")
    if path.stat().st_size > limit:
        raise UntrustedInput(f"{rel} is larger than {limit // 1024 // 1024} MiB: not read")
    return path.read_bytes()


def _shown(repo: Path, path: Path) -> str:
    try:
        return path.relative_to(repo).as_posix()
    except ValueError:
        return str(path)


def _size_check(text: str | bytes, what: str) -> None:
    if len(text) > MAX_TEXT:
        raise UntrustedInput(f"{what} is larger than {MAX_TEXT // 1024 // 1024} MiB: not parsed")


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return []
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return list(node.value)


def _expanded_size(node, limit: int) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (stops past ``limit``).

    Each node is visited once (an alias is the same node object again), so a "billion laughs"
    costs as little to measure as it takes to write.
    """
    sizes: dict[int, int] = {}
    stack = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        children = _children(current)
        if children_done or not children:
            total = 1 + sum(sizes.get(id(child), 1) for child in children)
            sizes[id(current)] = min(total, limit + 1)
        elif id(current) not in sizes:
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(node)]


def _loader(text: str, unknown_tags: bool = False):
    import yaml

    class Loader(yaml.SafeLoader):
        """PyYAML's safe loader: plain data only, no Python objects."""

    if unknown_tags:  # a tag only its own reader knows (Copier's `!include`) reads as None
        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return Loader(text)


def _text(text: str | bytes, what: str) -> str:
    _size_check(text, what)
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise UntrustedInput(f"{what} is not UTF-8 text") from None
    return text


def _documents(text: str | bytes, what: str, single: bool, unknown_tags: bool = False) -> list:
    import yaml

    loader = _loader(_text(text, what), unknown_tags)
    try:
        nodes = [loader.get_single_node()] if single else []
        while not single and loader.check_node():
            nodes.append(loader.get_node())
        return [_construct(loader, node, what) for node in nodes]
    except RecursionError:
        raise UntrustedInput(f"{what} is nested too deeply to read") from None
    except yaml.YAMLError as exc:
        raise UntrustedInput(f"{what} is not valid YAML ({_yaml_where(exc)})") from None
    finally:
        loader.dispose()


def _construct(loader, node, what: str):
    """The data of one document, once its expanded size is known to be within bounds."""
    if node is None:
        return None
    if _expanded_size(node, MAX_NODES) > MAX_NODES:
        raise UntrustedInput(
            f"{what} expands to more than {MAX_NODES:,} values through YAML aliases: "
            "refusing to read it"
        )
    return loader.construct_document(node)


def _yaml_where(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{problem}, line {mark.line + 1}" if mark is not None else str(problem)


def load_yaml(text: str | bytes, what: str, unknown_tags: bool = False):
    """The one YAML document in ``text`` as plain data (refused: too large, an alias bomb, too
    deep, not YAML). ``what`` names the input in the refusal (``"configs/default.yaml"``).
    With ``unknown_tags``, a value with a tag other than YAML's own reads as None."""
    return _documents(text, what, single=True, unknown_tags=unknown_tags)[0]


def load_yaml_all(text: str | bytes, what: str, unknown_tags: bool = False) -> list:
    """Every YAML document in ``text``, with ``load_yaml``'s bounds."""
    return _documents(text, what, single=False, unknown_tags=unknown_tags)


def load_json(text: str | bytes, what: str):
    """``text`` as JSON (refused: too large, too deep, not JSON)."""
    _size_check(text, what)
    try:
        return json.loads(text)
    except RecursionError:
        raise UntrustedInput(f"{what} is nested too deeply to read") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UntrustedInput(f"{what} is not valid JSON ({type(exc).__name__})") from None


# Credentials that must never reach a terminal or a CI log.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_TOKENS = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b")


def redact(text: str) -> str:
    """``text`` with URL user-info (``https://user:token@host``) and GitHub tokens replaced."""
    return _TOKENS.sub("***", _USERINFO.sub(r"\1***@", text))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` made safe to print: credentials redacted, control and format characters (escape
    sequences, bidirectional overrides) shown as ``\\x1b``-style escapes. Tabs stay; newlines
    stay only with ``newlines``."""
    kept = "\t\n" if newlines else "\t"
    return "".join(
        c if c in kept or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else _escape(c)
        for c in redact(str(text))
    )
