"""Where a template's releases come from: its URL checked, fetched once into a local mirror.

An answers file is data from a repo, so its ``_src_path`` is accepted only in the forms git and
Copier clone (https, ssh, ``git@host:path``, ``git://``, ``file://``, an absolute path, and
Copier's ``gh:``/``gl:`` shortcuts); anything else, and above all anything that git could read
as an option, is refused before git sees it.

A fleet run fetches each distinct template URL once into a bare mirror under the user's cache
(``$TUTORKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/tutorkit``, else ``~/.cache/tutorkit``); every
repo's update then reads the template at a tag from a folder extracted from that mirror, so a
fleet of 60 repos costs one network round trip per template, not one per repo.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tutorkit.errors import TutorkitError, UsageError
from tutorkit.fleet import file_lock, sweep_stale, threads
from tutorkit.git import reason, run_git
from tutorkit.template import TEMPLATE_URL_ENV, template_url

CACHE_ENV = "TUTORKIT_CACHE_DIR"
SHORTCUT = re.compile(r"^(gh|gl):/*(\S+?)(\.git)?/*$")  # Copier's gh:owner/repo, gl:…
SHORTCUT_HOSTS = {"gh": "github.com", "gl": "gitlab.com"}
HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
ACCEPTED = re.compile(
    rf"^(?:https://{HOST}(?::\d+)?/\S+"
    rf"|ssh://(?:[A-Za-z0-9._~-]+@)?{HOST}(?::\d+)?/\S+"
    rf"|git://{HOST}(?::\d+)?/\S+"
    rf"|[A-Za-z0-9._-]+@{HOST}:[A-Za-z0-9._~/][^:\s]*"
    r"|file:///\S*"
    r"|/\S*)$"
)
SOURCE_FORMS = "https://, ssh://, git@host:path, git://, file:// or an absolute path"
MAX_URL = 2048  # characters: a longer _src_path is refused before it reaches a command line
T = TypeVar("T")


def expand_shortcut(src: str) -> str | None:
    """The https URL Copier reads a ``gh:owner/repo`` or ``gl:…`` shortcut as (else None)."""
    match = SHORTCUT.match(src)
    return f"https://{SHORTCUT_HOSTS[match[1]]}/{match[2]}.git" if match else None


def git_url(src: object) -> str:
    """The URL git fetches for an answers file's ``_src_path``, or a TutorkitError saying why not.

    Copier's own spellings are understood (``gh:owner/repo``, ``gl:…``, a ``git+`` prefix); the
    answers file keeps recording the URL as written.
    """
    if not isinstance(src, str) or not src:
        raise TutorkitError("the answers file names no template (_src_path)")
    if len(src) > MAX_URL:
        raise TutorkitError(
            f"_src_path is {len(src):,} characters long, not a template URL tutorkit accepts"
        )
    if src.startswith("-") or re.search(r"[\s\x00-\x1f\x7f]", src):
        raise TutorkitError(f"_src_path {src!r} is not a git URL: refusing to pass it to git")
    url = expand_shortcut(src.removeprefix("git+")) or src.removeprefix("git+")
    if not ACCEPTED.match(url) or "::" in url or "/../" in f"{url}/":
        raise TutorkitError(
            f"_src_path {src!r} is not a template URL tutorkit accepts ({SOURCE_FORMS})"
        )
    return url


def checked_template_url(override: str | None = None) -> str:
    """The template URL that ``new`` and ``adopt`` record (``template.template_url``), refused
    with one sentence when it is not a git URL tutorkit accepts (``git_url``)."""
    url = template_url(override)
    try:
        git_url(url)
    except TutorkitError as exc:
        where = "--template-url" if override else f"${TEMPLATE_URL_ENV}"
        raise UsageError(f"{where}: {exc}.") from None
    return url


def cache_dir() -> Path:
    """tutorkit's cache folder (template mirrors and extracted template trees)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tutorkit"


def remote_tags(url: str) -> list[str]:
    """Every tag of the template repository at ``url`` (one ``git ls-remote``)."""
    proc = run_git(["ls-remote", "--tags", "--refs", "--", git_url(url)])
    if proc.returncode != 0:
        raise TutorkitError(f"Cannot list the tags of the template {url}: {reason(proc)}.")
    return [
        line.split("refs/tags/", 1)[1] for line in proc.stdout.splitlines() if "refs/tags/" in line
    ]


def per_template(urls: set[str], work: Callable[[str], T]) -> dict[str, T | TutorkitError]:
    """``work(url)`` for every template URL, several at a time (network round trips); a
    TutorkitError it raises is kept as that URL's value."""

    def result_or_error(url: str) -> T | TutorkitError:
        try:
            return work(url)
        except TutorkitError as exc:
            return exc

    ordered = sorted(urls)
    return dict(zip(ordered, threads(result_or_error, ordered, most=8), strict=True))


def tags_of_templates(urls: set[str]) -> dict[str, list[str] | TutorkitError]:
    """The tags of each template URL (one ``git ls-remote`` each, in parallel)."""
    return per_template(urls, remote_tags)


def _unwritable(root: Path, exc: OSError) -> TutorkitError:
    why = (exc.strerror or str(exc)).lower()
    return TutorkitError(
        f"the template cache {root} cannot be used ({why}): set ${CACHE_ENV} to a folder you "
        "can write to"
    )


class Mirror:
    """A local bare mirror of one template repository, and its trees at given tags."""

    def __init__(self, src: str, root: Path | None = None):
        self.src = src
        self.url = git_url(src)
        self.root = root or cache_dir()
        key = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.path = self.root / "templates" / f"{key}.git"
        self.fetched = False

    def _git(self, *args: str) -> str:
        proc = run_git(["--git-dir", str(self.path), *args])
        if proc.returncode != 0:
            raise TutorkitError(f"git {args[0]} failed in the template mirror: {reason(proc)}")
        return proc.stdout

    def fetch(self) -> None:
        """Bring every tag and branch of the template into the mirror (one network round trip)."""
        try:
            self._fetch()
        except OSError as exc:
            raise _unwritable(self.root, exc) from None

    def _fetch(self) -> None:
        with file_lock(self.path.with_suffix(".lock")):
            if not (self.path / "HEAD").is_file():
                shutil.rmtree(self.path, ignore_errors=True)
                proc = run_git(["init", "--quiet", "--bare", str(self.path)])
                if proc.returncode != 0:
                    raise TutorkitError(
                        f"Cannot create the template mirror {self.path}: {reason(proc)}."
                    )
            refspecs = ("+refs/tags/*:refs/tags/*", "+refs/heads/*:refs/heads/*")
            proc = run_git(
                ["--git-dir", str(self.path), "fetch", "--quiet", "--prune", "--no-tags",
                 "--", self.url, *refspecs]
            )  # fmt: skip
            if proc.returncode != 0:
                raise TutorkitError(f"Cannot fetch the template {self.src}: {reason(proc)}.")
        self.fetched = True

    def tags(self) -> list[str]:
        """Every tag in the mirror."""
        out = self._git("for-each-ref", "--format=%(refname:strip=2)", "refs/tags")
        return [line for line in out.splitlines() if line]

    def commit(self, tag: str) -> str:
        """The commit a tag points at ("" when the mirror has no such tag)."""
        ref = f"refs/tags/{tag}^{{commit}}"
        proc = run_git(["--git-dir", str(self.path), "rev-parse", "--verify", "--quiet", ref])
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def read(self, tag: str, path: str) -> str | None:
        """A file of the template at ``tag`` (None when it has no such file)."""
        proc = run_git(["--git-dir", str(self.path), "show", f"refs/tags/{tag}:{path}"])
        return proc.stdout if proc.returncode == 0 else None

    def tree(self, tag: str) -> Path:
        """The template as it is at ``tag``, extracted once into the cache (read-only use)."""
        try:
            return self._tree(tag)
        except OSError as exc:
            raise _unwritable(self.root, exc) from None

    def _tree(self, tag: str) -> Path:
        commit = self.commit(tag)
        if not commit:
            raise TutorkitError(f"the template {self.src} has no tag {tag}")
        trees = self.root / "trees"
        final = trees / commit
        if final.is_dir():
            return final
        trees.mkdir(parents=True, exist_ok=True)
        sweep_stale(trees, ".tmp-")
        proc = run_git(["--git-dir", str(self.path), "archive", "--format=tar", commit], text=False)
        if proc.returncode != 0:
            raise TutorkitError(f"Cannot read the template at {tag}: {reason(proc)}.")
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=trees))
        try:
            with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
                archive.extractall(staging, filter="data")
            with contextlib.suppress(OSError):  # another process extracted it first: keep theirs
                staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return final


class Templates:
    """The templates of a fleet run: each URL fetched once, then read from its mirror.

    An instance is what each repo's update is given to find the template at a tag (it is
    called as ``templates(url, tag)``); the worker processes inherit it, mirrors and all.
    """

    def __init__(self, root: Path | None = None):
        self.root = root
        self.mirrors: dict[str, Mirror | TutorkitError] = {}

    def fetch(self, urls: set[str]) -> dict[str, list[str] | TutorkitError]:
        """Fetch every URL once (several at a time); each URL's tags, or why it has none."""

        def fetched(url: str) -> Mirror:
            mirror = Mirror(url, self.root)
            mirror.fetch()
            return mirror

        self.mirrors.update(per_template(urls - set(self.mirrors), fetched))
        return {
            url: m if isinstance(m, TutorkitError) else m.tags()
            for url, m in self.mirrors.items()
            if url in urls
        }

    def __call__(self, url: str, tag: str) -> Path:
        mirror = self.mirrors.get(url)
        if mirror is None:
            self.fetch({url})
            mirror = self.mirrors[url]
        if isinstance(mirror, TutorkitError):
            raise mirror
        return mirror.tree(tag)
