"""A fleet repo's registry (`fleet.yml`): the author's companion repos, each in a wave.

    repos:
      - repo: ada/digits-cnn      # owner/name on GitHub
        wave: canary              # the group it is updated with (default: rest)
        notes: the first tutorial # anything; tutorkit does not read it

`tutorkit fleet clone` makes a shallow clone of each listed repo (what the fleet repo's
dashboard workflow runs `tutorkit status --github --html` on), and `tutorkit update --wave
NAME` updates only the repos of one wave. The file is read as untrusted input (bounded YAML),
and every repo name is checked against GitHub's naming rules before it reaches a URL or git.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tutorkit.errors import TutorkitError
from tutorkit.git import clean_environment, reason, run_git

REGISTRY_FILE = "fleet.yml"
DEFAULT_WAVE = "rest"
WAVE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FIELDS = {"repo", "wave", "notes"}
SERVER_ENV = "GITHUB_SERVER_URL"  # set by GitHub Actions; https://github.com by default


@dataclass(frozen=True)
class Member:
    repo: str  # owner/name
    wave: str = DEFAULT_WAVE
    notes: str = ""


def _member(entry: object, where: str) -> Member:
    from tutorkit.github import NAME, OWNER

    if not isinstance(entry, dict) or not isinstance(entry.get("repo"), str):
        raise TutorkitError(f"{where} is not a mapping with a `repo: owner/name`: fix it.")
    if unknown := set(entry) - FIELDS:
        raise TutorkitError(f"{where} has unknown keys {sorted(unknown)}: use repo, wave, notes.")
    owner, _, name = entry["repo"].partition("/")
    if not OWNER.match(owner) or not NAME.match(name) or name in (".", ".."):
        raise TutorkitError(f"{where}: {entry['repo']!r} is not a GitHub repo (owner/name).")
    wave = str(entry.get("wave") or DEFAULT_WAVE)
    if not WAVE.match(wave):
        raise TutorkitError(
            f"{where}: wave {wave!r} is not a wave name (lowercase letters, digits, - and _)."
        )
    return Member(repo=entry["repo"], wave=wave, notes=str(entry.get("notes") or ""))


def load_registry(path: Path) -> list[Member]:
    """The members listed in ``path``; one clear sentence for anything else."""
    from tutorkit.untrusted import load_yaml

    try:
        text = path.read_bytes()
    except OSError as exc:
        raise TutorkitError(
            f"Cannot read the registry {path} ({exc.strerror or exc}): give the fleet repo's "
            f"{REGISTRY_FILE}."
        ) from None
    document = load_yaml(text, str(path))
    repos = document.get("repos") if isinstance(document, dict) else None
    if not isinstance(repos, list):
        raise TutorkitError(f"{path} has no `repos:` list: see the comment at its top.")
    members = [_member(entry, f"{path}, entry {n}") for n, entry in enumerate(repos, 1)]
    seen: set[str] = set()
    for member in members:
        if member.repo.lower() in seen:
            raise TutorkitError(f"{path} lists {member.repo} twice: keep one entry.")
        seen.add(member.repo.lower())
    return members


def in_wave(members: list[Member], wave: str, path: Path) -> set[str]:
    """The repos (lowercase owner/name) of ``wave``; refused when no member is in it."""
    found = {m.repo.lower() for m in members if m.wave == wave}
    if not found:
        waves = sorted({m.wave for m in members}) or ["none"]
        raise TutorkitError(
            f"No repo of {path} is in wave {wave!r}: its waves are {', '.join(waves)}."
        )
    return found


def _auth_env(server: str) -> dict[str, str]:
    """The token (GH_TOKEN or GITHUB_TOKEN) as an HTTP header for ``server`` only, passed in
    git's environment (GIT_CONFIG_*), never on a command line or into a remote URL."""
    token = (os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN") or "").strip()
    if not token or not server.startswith("https://"):
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{server}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
    }


def clone_members(members: list[Member], dest: Path) -> tuple[list[Path], list[str]]:
    """A shallow clone of each member under ``dest`` (``owner__name``), its `origin` set to
    its github.com URL; returns the clones and, for those that failed, why."""
    server = (os.environ.get(SERVER_ENV) or "https://github.com").rstrip("/")
    env = {**clean_environment(os.environ), **_auth_env(server)}
    dest.mkdir(parents=True, exist_ok=True)
    cloned, failed = [], []
    for member in members:
        target = dest / member.repo.replace("/", "__")
        if target.exists():
            shutil.rmtree(target)
        url = f"{server}/{member.repo}.git"
        proc = run_git(["clone", "--quiet", "--depth", "1", "--", url, str(target)], env=env)
        if proc.returncode != 0:
            failed.append(f"{member.repo}: {reason(proc)}")
            continue
        github = f"https://github.com/{member.repo}.git"
        run_git(["-C", str(target), "remote", "set-url", "origin", github])
        cloned.append(target)
    return cloned, failed
