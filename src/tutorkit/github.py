"""A fleet as GitHub sees it: workflows, weekly runs, template-update PRs, tracking issues.

`tutorkit status --github` asks GitHub's REST API (the standard library's urllib, no SDK) four
questions per repo, and two more when a template-update pull request is open, several repos at
a time:

    GET /repos/{owner}/{repo}/actions/workflows                  is each workflow active?
    GET /repos/{owner}/{repo}/actions/workflows/{id}/runs        the last scheduled notebooks run
    GET /repos/{owner}/{repo}/pulls?head={owner}:template-update the open template-update PR
    GET /repos/{owner}/{repo}/commits/{sha}/status, .../check-runs   that PR's checks
    GET /repos/{owner}/{repo}/issues                             open tracking issues

With `--fix` it re-enables the workflows GitHub disabled for inactivity (state
`disabled_inactivity`; never one disabled by hand): PUT .../actions/workflows/{id}/enable.

The token comes from GH_TOKEN, GITHUB_TOKEN or `gh auth token`; the API from GITHUB_API_URL
(GitHub's own variable; default https://api.github.com). GitHub's answers are untrusted: the
token goes to the API's host only (a redirect to another host or scheme is refused, never
followed), a whole `status --github` has one deadline (``DEADLINE``; a server that answers one
byte a second cannot hold it, and Ctrl-C cuts every open connection at once), answers are read
up to ``MAX_BODY`` bytes, and what is printed of them goes through ``untrusted.printable``.
The repo is the `origin` remote when it is on github.com, else the answers'
`github_owner`/`repo_name`; both are checked against GitHub's naming rules before they go into
a URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tutorkit import __version__
from tutorkit.errors import TutorkitError, one_line
from tutorkit.git import git
from tutorkit.untrusted import UntrustedInput, load_json, printable

API_URL_ENV = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
TOKEN_ENVS = ("GH_TOKEN", "GITHUB_TOKEN")
NOTEBOOKS_WORKFLOW = ".github/workflows/notebooks.yml"
UPDATE_BRANCH = "template-update"
TRACKING_LABELS = ("notebooks-failing", "dependency-drift", "colab-install")
OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
GITHUB_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/\s]+@)?github\.com/|ssh://git@github\.com(?::22)?/|git@github\.com:)"
    r"([^/\s]+)/([^/\s]+?)(?:\.git)?/?$"
)
# Check-run conclusions and commit-status states, by what they mean for a merge.
PASSING = {"success", "neutral", "skipped"}
PENDING = {"pending", "queued", "in_progress", "waiting", "requested", None}
TIMEOUT = 30  # seconds a request may wait for the next bytes
DEADLINE = 300  # seconds for all of one command's requests together (default)
DEADLINE_ENV = "TUTORKIT_GITHUB_DEADLINE"
MAX_BODY = 32 * 1024 * 1024  # bytes of one answer
MAX_REDIRECTS = 3  # on the API's own host (a renamed repository answers 301)
REDIRECTS = (301, 302, 303, 307, 308)
WORKERS = 8  # repos asked at the same time


class StopAll(TutorkitError):
    """A failure every other request would meet too (token, rate limit, network): stop."""


class Refused(TutorkitError):
    """GitHub answered one request with an HTTP error (its status in ``code``)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def find_token() -> str:
    """A GitHub token: GH_TOKEN, GITHUB_TOKEN, else what `gh auth token` prints."""
    for name in TOKEN_ENVS:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    try:
        done = subprocess.run(
            ["gh", "auth", "token"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done and done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    raise TutorkitError(
        "No GitHub token: set GH_TOKEN (or GITHUB_TOKEN) to a token that can read the repos' "
        "Actions, pull requests and issues, or log in with `gh auth login`."
    )


def deadline() -> float:
    """Seconds for all of one command's requests: $TUTORKIT_GITHUB_DEADLINE, else ``DEADLINE``."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEADLINE
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 86400:
        raise TutorkitError(f"{DEADLINE_ENV}={printable(raw)!r} is not a number of seconds.")
    return seconds


def api_url() -> str:
    url = os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise TutorkitError(f"{API_URL_ENV}={url!r} is not an http(s) URL: unset it or fix it.")
    return url.rstrip("/")


def origin_repo(repo: Path) -> tuple[str, str, str] | None:
    """(owner, name, URL) of the repo's `origin` remote when it is on github.com, else None."""
    remote = git(repo, "remote", "get-url", "origin", check=False).strip()
    match = GITHUB_REMOTE.match(remote)
    return (match[1], match[2], remote) if match else None


def repo_slug(repo: Path, answers: dict) -> str:
    """`owner/name` on GitHub: from the `origin` remote on github.com, else from the answers."""
    if origin := origin_repo(repo):
        owner, name, where = origin[0], origin[1], f"the origin remote {printable(origin[2])}"
    else:
        owner, name = str(answers.get("github_owner", "")), str(answers.get("repo_name", ""))
        where = "the answers file's github_owner and repo_name"
    if not OWNER.match(owner) or not NAME.match(name) or name in (".", ".."):
        raise TutorkitError(
            f"{where} names no valid GitHub repository ({printable(owner)!r}, "
            f"{printable(name)!r}): "
            "set the origin remote to the repo's GitHub URL"
        )
    return f"{owner}/{name}"


class Client:
    """GitHub's REST API with one token, sent to the API's host only; errors worded for people."""

    def __init__(self, token: str, base: str, deadline: float = DEADLINE):
        self.token, self.base = token, base
        parts = urllib.parse.urlsplit(base)
        self.scheme, self.host, self.prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")
        self.seconds = deadline
        self.deadline = time.monotonic() + deadline
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def get(self, path: str, **query) -> object:
        return self._request("GET", path, query)

    def put(self, path: str) -> None:
        self._request("PUT", path, {})

    def post(self, path: str, data: dict) -> object:
        return self._request("POST", path, {}, json.dumps(data).encode())

    def download(self, path: str) -> bytes:
        """The bytes behind ``path``. GitHub answers some downloads (artifacts) with a 302 to a
        short-lived URL on another host: that one is fetched without the token, and a redirect
        from there is not followed."""
        status, headers, body = self._send("GET", self.prefix + path)
        if status in REDIRECTS:
            parts = urllib.parse.urlsplit(headers.get("Location", ""))
            if parts.scheme not in ("https", self.scheme) or not parts.netloc:
                raise Refused(f"GitHub sent {path} to a location that is not an http(s) URL", 502)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            status, headers, body = self._send("GET", target, at=(parts.scheme, parts.netloc))
            if status in REDIRECTS:
                raise Refused(f"the download of {path} redirected again: not followed", 502)
        if status >= 400:
            raise self._explain(status, headers, body, "GET", path)
        return body

    def close_all(self) -> None:
        """Cut every open connection (an interrupt must not wait for a slow server)."""
        self.deadline = 0
        with self._lock:
            for connection in list(self._open):
                _cut(connection)

    def _request(self, method: str, path: str, query: dict, data: bytes | None = None) -> object:
        target = self.prefix + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        for _hop in range(MAX_REDIRECTS + 1):
            status, headers, body = self._send(method, target, data)
            if status not in REDIRECTS:
                break
            target = self._same_host(headers.get("Location", ""))
        else:
            raise StopAll(
                f"GitHub's API at {self.base} redirected more than {MAX_REDIRECTS} times."
            )
        if status >= 400:
            raise self._explain(status, headers, body, method, path)
        try:
            return load_json(body, "GitHub's answer") if body.strip() else None
        except UntrustedInput as exc:
            raise Refused(f"{exc} (to {method} {path})", status) from None

    def _same_host(self, location: str) -> str:
        """The path a redirect leads to, refused unless it stays on the API's scheme and host."""
        parts = urllib.parse.urlsplit(location)
        if (parts.scheme or self.scheme) != self.scheme or (parts.netloc or self.host) != self.host:
            where = printable(f"{parts.scheme}://{parts.netloc}")
            raise StopAll(
                f"GitHub's API at {self.base} redirected to another host ({where}): not followed, "
                "so the token stays with the API; check GITHUB_API_URL."
            )
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _headers(self, api: bool, data: bytes | None) -> dict[str, str]:
        headers = {"User-Agent": f"tutorkit/{__version__}"}
        if api:  # the token, and GitHub's own headers, go to the API's host only
            headers["Accept"] = "application/vnd.github+json"
            headers["Authorization"] = f"Bearer {self.token}"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        if data:
            headers["Content-Type"] = "application/json"
        return headers

    def _send(
        self, method: str, target: str, data: bytes | None = None, at: tuple[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request: to the API, or (``at``: scheme and host) elsewhere, without the token."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._late()
        scheme, host = at or (self.scheme, self.host)
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = kind(host, timeout=min(TIMEOUT, remaining))
        watchdog = threading.Timer(remaining, _cut, (connection,))
        with self._lock:
            self._open.add(connection)
        watchdog.start()
        try:
            body = data if data is not None else (b"" if method == "PUT" else None)
            headers = self._headers(api=at is None, data=data)
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, self._body(response)
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() >= self.deadline:
                raise self._late() from None
            raise StopAll(
                f"Cannot reach GitHub's API at {self.base} ({printable(one_line(error))}): check "
                f"the network, or {API_URL_ENV}."
            ) from None
        finally:
            watchdog.cancel()
            with self._lock:
                self._open.discard(connection)
            connection.close()

    def _body(self, response: http.client.HTTPResponse) -> bytes:
        chunks, size = [], 0
        while chunk := response.read1(65536):
            size += len(chunk)
            if size > MAX_BODY:
                raise StopAll(f"GitHub's API at {self.base} sent an answer over {MAX_BODY} bytes.")
            if time.monotonic() >= self.deadline:
                raise self._late()
            chunks.append(chunk)
        return b"".join(chunks)

    def _late(self) -> StopAll:
        return StopAll(
            f"GitHub's API at {self.base} did not answer within {self.seconds:g} seconds in all: "
            "try again later."
        )

    def _explain(self, status: int, headers, body: bytes, method: str, path: str) -> TutorkitError:
        """The sentence for an HTTP error: StopAll when every request would fail alike."""
        message = _error_message(body)
        if status == 401:
            return StopAll(
                "GitHub refused the token (401 Bad credentials): set GH_TOKEN to a valid token, "
                "or log in again with `gh auth login`."
            )
        if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
            return StopAll(
                f"GitHub's API rate limit for this token is used up until "
                f"{_reset_time(headers.get('x-ratelimit-reset', ''))}: wait, or use another "
                "token (GH_TOKEN)."
            )
        if status == 429 or "secondary rate limit" in message.lower():
            return StopAll(
                "GitHub asks to slow down (secondary rate limit): wait a minute and retry."
            )
        if status == 404:
            return Refused(
                "GitHub has no such repository, or the token cannot see it (404 on "
                f"{method} {path})",
                404,
            )
        reason = printable(one_line(message)) or http.client.responses.get(status, "")
        return Refused(f"GitHub answered {status} to {method} {path}: {reason}", status)


def _error_message(body: bytes) -> str:
    """The `message` of GitHub's JSON error body ("" when there is none)."""
    try:
        answer = load_json(body or b"{}", "GitHub's error")
    except UntrustedInput:
        return ""
    return str(answer.get("message", "")) if isinstance(answer, dict) else ""


def _reset_time(reset: str) -> str:
    """When the rate limit resets (x-ratelimit-reset, epoch seconds), for people."""
    if not (reset.isdigit() and len(reset) < 12):
        return "later"
    return datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M UTC")


def _cut(connection: http.client.HTTPConnection) -> None:
    """End a connection's blocking reads at once (from another thread)."""
    with contextlib.suppress(OSError, AttributeError):
        connection.sock.shutdown(socket.SHUT_RDWR)


@dataclass
class GitHubHealth:
    """What GitHub says about one repo (see the module docstring for where each part comes from)."""

    repo: str = ""
    notebooks_workflow: str = ""  # its `state`: active, disabled_inactivity, ...; or missing
    disabled_for_inactivity: list[str] = field(default_factory=list)
    reenabled: list[str] = field(default_factory=list)
    last_scheduled_run: dict | None = None
    update_pull_request: dict | None = None
    tracking_issues: list[dict] = field(default_factory=list)
    error: str = ""

    @property
    def attention(self) -> list[str]:
        """Why this repo needs its author, as short phrases (none: all is well)."""
        if self.error:
            return [self.error]
        found = []
        if self.notebooks_workflow != "active":
            found.append(f"notebooks workflow {self.notebooks_workflow}")
        found += [f"{path} disabled_inactivity" for path in self.disabled_for_inactivity]
        run = self.last_scheduled_run
        if run and run["status"] == "completed" and run["conclusion"] not in PASSING:
            found.append(f"last weekly run: {run['conclusion']}")
        pull = self.update_pull_request
        if pull and pull["checks"]["failing"]:
            found.append(f"template-update pull request #{pull['number']}: checks failing")
        found += [f"open issue #{i['number']} ({i['label']})" for i in self.tracking_issues]
        return found

    def to_json(self) -> dict:
        return {
            "repo": self.repo,
            "notebooks_workflow": self.notebooks_workflow,
            "disabled_for_inactivity": self.disabled_for_inactivity,
            "reenabled": self.reenabled,
            "last_scheduled_run": self.last_scheduled_run,
            "update_pull_request": self.update_pull_request,
            "tracking_issues": self.tracking_issues,
            "attention": self.attention,
            "error": self.error,
        }


def _checks(client: Client, slug: str, sha: str) -> dict:
    """Counts of the commit's commit statuses and check runs: passed, failing, pending.

    GitHub gives fine-grained tokens no Checks permission: where such a token may not read a
    private repo's check runs (403), only the statuses are counted and `check_runs` says so.
    """
    statuses = client.get(f"/repos/{slug}/commits/{sha}/status")["statuses"]
    outcomes = [s["state"] for s in statuses]
    counts = {"passed": 0, "failing": 0, "pending": 0, "check_runs": "read"}
    try:
        runs = client.get(f"/repos/{slug}/commits/{sha}/check-runs", per_page=100)["check_runs"]
    except Refused as refused:
        if refused.code != 403:
            raise
        counts["check_runs"] = "not readable with this token"
        runs = []
    outcomes += [r["conclusion"] if r["status"] == "completed" else r["status"] for r in runs]
    for outcome in outcomes:
        kind = "passed" if outcome in PASSING else "pending" if outcome in PENDING else "failing"
        counts[kind] += 1
    return counts


def repo_health(client: Client, slug: str, fix: bool) -> GitHubHealth:
    health = GitHubHealth(repo=slug, notebooks_workflow="missing")
    notebooks = _workflows(client, slug, fix, health)
    if notebooks is not None:
        runs = client.get(
            f"/repos/{slug}/actions/workflows/{int(notebooks['id'])}/runs",
            event="schedule",
            per_page=1,
        )["workflow_runs"]
        if runs:
            health.last_scheduled_run = {
                key: runs[0][key] for key in ("conclusion", "status", "created_at", "html_url")
            }
    health.update_pull_request = _update_pull(client, slug)
    health.tracking_issues = _tracking_issues(client, slug)
    return health


def _workflows(client: Client, slug: str, fix: bool, health: GitHubHealth) -> dict | None:
    """Each workflow's state into ``health`` (re-enabled with ``fix``); the notebooks one."""
    notebooks = None
    for workflow in client.get(f"/repos/{slug}/actions/workflows", per_page=100)["workflows"]:
        if workflow["state"] == "disabled_inactivity" and fix:
            client.put(f"/repos/{slug}/actions/workflows/{int(workflow['id'])}/enable")
            health.reenabled.append(workflow["path"])
            workflow["state"] = "active"
        if workflow["path"] == NOTEBOOKS_WORKFLOW:
            notebooks = workflow
            health.notebooks_workflow = workflow["state"]
        elif workflow["state"] == "disabled_inactivity":
            health.disabled_for_inactivity.append(workflow["path"])
    return notebooks


def _update_pull(client: Client, slug: str) -> dict | None:
    """The open template-update pull request and its checks (None when there is none)."""
    owner = slug.split("/")[0]
    pulls = client.get(
        f"/repos/{slug}/pulls", state="open", head=f"{owner}:{UPDATE_BRANCH}", per_page=1
    )
    if not pulls:
        return None
    pull = pulls[0]
    return {
        "number": pull["number"],
        "html_url": pull["html_url"],
        "draft": bool(pull.get("draft")),
        "head_sha": pull["head"]["sha"],
        "checks": _checks(client, slug, pull["head"]["sha"]),
    }


def _tracking_issues(client: Client, slug: str) -> list[dict]:
    """The open issues (not pull requests) with a tracking label, once per label."""
    found = []
    for issue in client.get(f"/repos/{slug}/issues", state="open", per_page=100):
        if "pull_request" in issue:
            continue
        labels = {label["name"] for label in issue["labels"]}
        found += [
            {
                "number": issue["number"],
                "title": issue["title"],
                "label": label,
                "html_url": issue["html_url"],
            }
            for label in TRACKING_LABELS
            if label in labels
        ]
    return found


def fleet_health(client: Client, repos: list[tuple[Path, dict]], fix: bool) -> list[GitHubHealth]:
    """Each repo's GitHub health, several repos at a time; a repo's own failure is its `error`."""

    def one(item: tuple[Path, dict]) -> GitHubHealth:
        repo, answers = item
        slug = ""
        try:
            slug = repo_slug(repo, answers)
            return repo_health(client, slug, fix)
        except StopAll:
            raise
        except TutorkitError as exc:
            return GitHubHealth(repo=slug, error=str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            why = f"{type(exc).__name__}: {one_line(exc)}"
            return GitHubHealth(
                repo=slug, error=f"GitHub's answer is not what tutorkit reads ({why})"
            )

    from tutorkit.fleet import threads

    try:
        return threads(one, repos, most=WORKERS)
    except BaseException:  # Ctrl-C, SIGTERM, a StopAll: no thread may keep the process waiting
        client.close_all()
        raise


# The dashboard's reads (`tutorkit status --github --html`): the notebooks' recent test reports.
#
#     GET /repos/{owner}/{repo}/actions/artifacts?name=notebook-report   the last reports
#     GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip               one report (a zip)
#
# The zip endpoint answers 302 with a short-lived URL on another host (GitHub's docs: "Look for
# Location: in the response header"); that URL is fetched without the token, and no further
# redirect is followed. What the zip holds is untrusted: bounded in size and entries.

REPORT_ARTIFACT = "notebook-report"
HISTORY_RUNS = 5  # reports read per repo: the duration trend's length
MAX_ENTRY = 16 * 2**20  # bytes of one file inside it, unpacked
MAX_ENTRIES = 200


def artifact_zip(client: Client, slug: str, artifact_id: int) -> bytes:
    """The bytes of an artifact's zip (``Client.download``: the token goes to the API only)."""
    return client.download(f"/repos/{slug}/actions/artifacts/{int(artifact_id)}/zip")


def _zip_entries(data: bytes) -> dict[str, bytes]:
    """Name -> bytes of each file in the zip, refusing bombs (sizes, count) and odd names."""
    import io
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES or any(i.file_size > MAX_ENTRY for i in infos):
            raise Refused("a notebook report holds too many or too large files: not read", 413)
        entries = {}
        for info in infos:
            with archive.open(info) as member:
                entries[info.filename] = member.read(MAX_ENTRY + 1)[:MAX_ENTRY]
        return entries
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise Refused(f"a notebook report is not a readable zip ({one_line(error)})", 422) from None


def _outcome(case) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    return "skipped" if case.find("skipped") is not None else "passed"


def junit_cases(xml: bytes) -> list[dict]:
    """Each test case of a pytest junit report (xunit1): file, name, outcome, seconds."""
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise Refused("a junit report declares a DOCTYPE or entities: not read", 422)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as error:
        raise Refused(f"a junit report is not valid XML ({one_line(error)})", 422) from None
    cases = []
    for case in root.iter("testcase"):
        try:
            seconds = round(float(case.get("time", "0")), 3)
        except ValueError:
            seconds = 0.0
        cases.append(
            {
                "file": case.get("file") or case.get("classname", ""),
                "name": case.get("name", ""),
                "outcome": _outcome(case),
                "seconds": seconds,
            }
        )
    return cases


WARNING_LINE = re.compile(r"^\S.*?:\d+: (?P<category>\w*Warning): (?P<message>.+)$")
MAX_WARNINGS = 50  # per notebook


def notebook_warnings(notebook: bytes) -> list[str]:
    """The warnings an executed notebook printed (stderr outputs in Python's warning format),
    as "Category: message" without the file and line (a kernel's temporary file name)."""
    found: list[str] = []
    for text in _stderr_texts(notebook):
        for line in text.splitlines():
            if (match := WARNING_LINE.match(line)) and len(found) < MAX_WARNINGS:
                found.append(f"{match['category']}: {match['message'].strip()}")
    return list(dict.fromkeys(found))


def _stderr_texts(notebook: bytes) -> list[str]:
    """What the notebook's cells printed on stderr (nothing when it is not a notebook)."""
    try:
        cells = load_json(notebook, "an executed notebook").get("cells", [])
    except (UntrustedInput, AttributeError):
        return []
    texts = [o.get("text", "") for o in _outputs(cells) if o.get("name") == "stderr"]
    return ["".join(t) if isinstance(t, list) else str(t) for t in texts]


def _outputs(cells: object) -> list[dict]:
    """Every output of every cell, skipping whatever is not shaped as nbformat says."""
    found = []
    for cell in cells if isinstance(cells, list) else []:
        outputs = cell.get("outputs", []) if isinstance(cell, dict) else []
        found += [o for o in outputs if isinstance(o, dict)]
    return found


def read_report(data: bytes) -> dict:
    """One notebook-report artifact: its junit cases, and each executed notebook's warnings."""
    entries = _zip_entries(data)
    xml = next((body for name, body in entries.items() if name.endswith(".xml")), None)
    if xml is None:
        raise Refused("a notebook report has no junit .xml file", 422)
    cases = junit_cases(xml)
    files = {case["file"] for case in cases}

    def tested(name: str) -> str:
        """The junit file name of a zipped notebook: upload-artifact roots the zip at the
        paths' common ancestor (`junit.xml`, `executed-notebooks/notebooks/x.ipynb`)."""
        return next((f for f in files if name == f or name.endswith("/" + f)), name)

    warnings = {
        tested(name): found
        for name, body in entries.items()
        if name.endswith(".ipynb") and (found := notebook_warnings(body))
    }
    return {"cases": cases, "warnings": warnings}


def notebook_history(client: Client, slug: str, runs: int = HISTORY_RUNS) -> list[dict]:
    """The last ``runs`` notebook reports (newest first), each with its run and date."""
    listed = client.get(f"/repos/{slug}/actions/artifacts", name=REPORT_ARTIFACT, per_page=runs)[
        "artifacts"
    ]
    reports = []
    for artifact in listed[:runs]:
        if artifact.get("expired"):
            continue
        report = read_report(artifact_zip(client, slug, int(artifact["id"])))
        run = artifact.get("workflow_run") or {}
        reports.append(
            {"run_id": run.get("id"), "created_at": str(artifact["created_at"]), **report}
        )
    return reports


# Waves (`tutorkit fleet rollout`): start a member's template-update workflow.
#
#     POST /repos/{owner}/{repo}/actions/workflows/template-update.yml/dispatches  {"ref": ...}
#
# GitHub answers 204 No Content (docs.github.com/rest/actions/workflows, "Create a workflow
# dispatch event"; the token needs `actions: write` on the repo).

UPDATE_WORKFLOW = "template-update.yml"


def dispatch_update(client: Client, slug: str, ref: str) -> None:
    """Start ``slug``'s template-update workflow on ``ref`` (GitHub answers 204)."""
    client.post(f"/repos/{slug}/actions/workflows/{UPDATE_WORKFLOW}/dispatches", {"ref": ref})
