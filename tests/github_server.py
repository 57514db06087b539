"""A stand-in for GitHub's REST API on 127.0.0.1, for `tutorkit status --github`.

A stdlib `http.server` in a thread. It serves the endpoints tutorkit reads, with the paths,
query parameters, status codes, headers and JSON field names of GitHub's REST API
(docs.github.com/rest: actions/workflows, actions/workflow-runs, pulls, commits/statuses,
checks/runs, issues): workflows with `state` (active, disabled_inactivity, disabled_manually),
runs with `event`, `status`, `conclusion`, `created_at`, pulls with `head.sha` and
`head.label`, issues with `labels[].name` (and `pull_request` for pull requests). It checks the
`Authorization: Bearer` token (401 `Bad credentials`), answers 404 `Not Found` for an unknown
repo, and can play the rate limit (403 with `x-ratelimit-remaining: 0`). It records every
request, and how many were in flight at once.

Artifacts (docs.github.com/rest/actions/artifacts): `GET .../actions/artifacts?name=` lists a
repo's artifacts newest first (`id`, `name`, `size_in_bytes`, `archive_download_url`,
`expired`, `created_at`, `workflow_run.id`...), and `GET .../actions/artifacts/{id}/zip`
answers as GitHub does, 302 with a `Location` to a short-lived URL elsewhere (here a
`/_blobs/` path on the same server, which needs no token and records whether one was sent).
`mixed_fleet` builds the payloads of a fleet in the states the dashboard must show.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

TOKEN = "ghp_fleet_test_token"


def workflow(number: int, name: str, state: str, slug: str, path: str = "") -> dict:
    """A workflow as GET /repos/{owner}/{repo}/actions/workflows lists it."""
    path = path or f".github/workflows/{name}"
    return {
        "id": number,
        "node_id": f"W_{number}",
        "name": name.removesuffix(".yml"),
        "path": path,
        "state": state,
        "created_at": "2026-01-05T10:00:00.000Z",
        "updated_at": "2026-03-05T10:00:00.000Z",
        "url": f"https://api.github.com/repos/{slug}/actions/workflows/{number}",
        "html_url": f"https://github.com/{slug}/blob/main/{path}",
        "badge_url": f"https://github.com/{slug}/workflows/{name}/badge.svg",
    }


def run(number: int, workflow_id: int, event: str, conclusion: str | None, created: str) -> dict:
    return {
        "id": number,
        "name": "notebooks",
        "head_branch": "main",
        "head_sha": "a" * 40,
        "event": event,
        "status": "completed" if conclusion else "in_progress",
        "conclusion": conclusion,
        "workflow_id": workflow_id,
        "html_url": f"https://github.com/x/y/actions/runs/{number}",
        "created_at": created,
        "updated_at": created,
        "run_started_at": created,
    }


def pull(number: int, slug: str, sha: str, draft: bool = False) -> dict:
    owner = slug.split("/")[0]
    return {
        "number": number,
        "state": "open",
        "title": "Template update: v1.0.0 -> v1.1.0",
        "html_url": f"https://github.com/{slug}/pull/{number}",
        "draft": draft,
        "head": {"label": f"{owner}:template-update", "ref": "template-update", "sha": sha},
        "base": {"label": f"{owner}:main", "ref": "main", "sha": "b" * 40},
    }


def issue(number: int, slug: str, title: str, labels: list[str], is_pull: bool = False) -> dict:
    found = {
        "number": number,
        "title": title,
        "state": "open",
        "html_url": f"https://github.com/{slug}/issues/{number}",
        "labels": [{"id": n, "name": name, "color": "B60205"} for n, name in enumerate(labels)],
    }
    if is_pull:
        found["pull_request"] = {"url": f"https://api.github.com/repos/{slug}/pulls/{number}"}
    return found


class FakeGitHub:
    """`repos`: slug -> {"workflows", "runs", "pulls", "statuses", "check_runs", "issues"}."""

    def __init__(
        self, repos: dict, delay: float = 0.0, rate_limited: bool = False, forbidden: str = ""
    ):
        """`forbidden`: a path ending answered 403, as for a token without that permission."""
        self.repos, self.delay, self.rate_limited = repos, delay, rate_limited
        self.forbidden = forbidden
        self.requests: list[tuple[str, str, dict, str]] = []  # method, path, query, auth
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.handle(self, "GET")

            def do_PUT(self):
                server.handle(self, "PUT")

            def do_POST(self):
                server.handle(self, "POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "POST":  # the JSON body, recorded as the query is
            length = int(request.headers.get("Content-Length") or 0)
            query = {**query, "body": json.loads(request.rfile.read(length) or b"null")}
        with self.lock:
            self.requests.append(
                (method, parts.path, query, request.headers.get("Authorization", ""))
            )
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            status, body, headers = self.answer(method, parts.path, query, request.headers)
        finally:
            with self.lock:
                self.in_flight -= 1
        binary = isinstance(body, bytes)
        payload = body if binary else b"" if body is None else json.dumps(body).encode()
        request.send_response(status)
        kind = "application/zip" if binary else "application/json; charset=utf-8"
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def answer(self, method: str, path: str, query: dict, headers) -> tuple[int, object, dict]:
        if found := re.fullmatch(r"/_blobs/([^/]+/[^/]+)/(\d+)", path):
            return self.blob(found[1], int(found[2]), query)
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}
        if self.rate_limited:
            limit = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": "1767229200",
            }  # fmt: skip  (2026-01-01 01:00 UTC)
            return (
                403,
                {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS},
                limit,
            )
        if self.forbidden and path.endswith(self.forbidden):
            message = "Resource not accessible by personal access token"
            return 403, {"message": message, "documentation_url": DOCS}, {}
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)", path)
        repo = self.repos.get(match[1]) if match else None
        if repo is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        rest = match[2]
        if method == "GET" and rest == "/actions/workflows":
            return 200, {"total_count": len(repo["workflows"]), "workflows": repo["workflows"]}, {}
        if found := re.fullmatch(r"/actions/workflows/(\d+)/enable", rest):
            for entry in repo["workflows"]:
                if entry["id"] == int(found[1]) and method == "PUT":
                    entry["state"] = "active"
                    return 204, None, {}
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if found := re.fullmatch(r"/actions/workflows/([\w.-]+)/dispatches", rest):
            # Create a workflow dispatch event: 204 No Content (GitHub runs it later).
            known = {str(w["id"]) for w in repo["workflows"]} | {
                w["path"].rsplit("/", 1)[-1] for w in repo["workflows"]
            }
            if method != "POST" or found[1] not in known:
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            if not isinstance(query.get("body"), dict) or "ref" not in query["body"]:
                return 422, {"message": 'Invalid request. "ref" wasn\'t supplied.'}, {}
            return 204, None, {}
        if found := re.fullmatch(r"/actions/workflows/(\d+)/runs", rest):
            runs = [
                r
                for r in repo.get("runs", [])
                if r["workflow_id"] == int(found[1])
                and r["event"] == query.get("event", r["event"])
            ]
            runs.sort(key=lambda r: r["created_at"], reverse=True)
            page = runs[: int(query.get("per_page", 30))]
            return 200, {"total_count": len(runs), "workflow_runs": page}, {}
        if rest == "/pulls":
            pulls = [
                p
                for p in repo.get("pulls", [])
                if p["state"] == query.get("state", "open")
                and p["head"]["label"] == query.get("head", p["head"]["label"])
            ]
            return 200, pulls[: int(query.get("per_page", 30))], {}
        if found := re.fullmatch(r"/commits/([0-9a-f]{40})/status", rest):
            statuses = repo.get("statuses", {}).get(found[1], [])
            states = {s["state"] for s in statuses}
            combined = (
                "failure"
                if states & {"failure", "error"}
                else "pending"
                if not states or "pending" in states
                else "success"
            )
            return (
                200,
                {
                    "state": combined,
                    "sha": found[1],
                    "total_count": len(statuses),
                    "statuses": statuses,
                },
                {},
            )
        if found := re.fullmatch(r"/commits/([0-9a-f]{40})/check-runs", rest):
            runs = repo.get("check_runs", {}).get(found[1], [])
            return 200, {"total_count": len(runs), "check_runs": runs}, {}
        if rest == "/issues":
            issues = [i for i in repo.get("issues", []) if i["state"] == query.get("state", "open")]
            return 200, issues[: int(query.get("per_page", 30))], {}
        if rest == "/actions/artifacts":
            found = [
                a for a in repo.get("artifacts", []) if a["name"] == query.get("name", a["name"])
            ]
            found.sort(key=lambda a: a["created_at"], reverse=True)
            page = found[: int(query.get("per_page", 30))]
            return 200, {"total_count": len(found), "artifacts": page}, {}
        if found := re.fullmatch(r"/actions/artifacts/(\d+)/zip", rest):
            if int(found[1]) not in repo.get("zips", {}):
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            slug = match[1]
            where = f"{self.url}/_blobs/{slug}/{found[1]}?sig=short-lived"
            return 302, None, {"Location": where}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}

    def blob(self, slug: str, number: int, query: dict) -> tuple[int, object, dict]:
        """The storage URL an artifact's zip redirects to: signed by its query, not a token."""
        data = self.repos.get(slug, {}).get("zips", {}).get(number)
        if data is None or query.get("sig") != "short-lived":
            return 403, {"message": "AuthenticationFailed"}, {}
        return 200, data, {}


DOCS = "https://docs.github.com/rest"


def artifact(number: int, slug: str, run_id: int, created: str, size: int) -> dict:
    """An artifact as GET /repos/{owner}/{repo}/actions/artifacts lists it."""
    api = f"https://api.github.com/repos/{slug}/actions/artifacts/{number}"
    return {
        "id": number,
        "node_id": f"MDg6QXJ0aWZhY3Q{number}",
        "name": "notebook-report",
        "size_in_bytes": size,
        "url": api,
        "archive_download_url": f"{api}/zip",
        "expired": False,
        "created_at": created,
        "updated_at": created,
        "expires_at": created,
        "workflow_run": {
            "id": run_id,
            "repository_id": 1,
            "head_repository_id": 1,
            "head_branch": "main",
            "head_sha": "a" * 40,
        },
    }


def junit_xml(cases: list[tuple[str, str, float]]) -> str:
    """A junit report as `pytest --nbmake -o junit_family=xunit1 --junitxml=...` writes it
    (nbmake 1.5.5; the shape recorded from a real run in tests/data/nbmake-junit.xml), the
    shape the notebook runner writes too (tests/data/notebooks-runner-junit.xml):
    ``cases`` are (notebook path, passed/failed/skipped, seconds)."""
    body = []
    for path, outcome, seconds in cases:
        name = path.rsplit("/", 1)[-1]
        classname = path.rsplit(".ipynb", 1)[0].replace("/", ".") + ".ipynb"
        head = (
            f"<testcase classname={quoteattr(classname)} name={quoteattr(name)} "
            f'file={quoteattr(path)} line="0" time="{seconds:.3f}"'
        )
        if outcome == "failed":
            body.append(
                f'{head}><failure message="ValueError: broke">Traceback</failure></testcase>'
            )
        elif outcome == "skipped":
            body.append(f'{head}><skipped type="pytest.skip" message="needs a GPU" /></testcase>')
        else:
            body.append(f"{head} />")
    failures = sum(1 for c in cases if c[1] == "failed")
    skipped = sum(1 for c in cases if c[1] == "skipped")
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="0" failures="{failures}" skipped="{skipped}" '
        f'tests="{len(cases)}" time="1.0" timestamp="2026-12-06T22:04:22+00:00" hostname="vm">'
        + "".join(body)
        + "</testsuite></testsuites>"
    )


def executed_notebook(warnings: list[str]) -> str:
    """An executed notebook whose first cell printed ``warnings`` ("FutureWarning: text") on
    stderr, in the form Python's warnings module prints them from an ipykernel cell."""
    lines = []
    for number, warning in enumerate(warnings):
        lines += [f"/tmp/ipykernel_7332/10487705{number}.py:2: {warning}\n", "  warnings.warn(\n"]
    outputs = [{"name": "stderr", "output_type": "stream", "text": lines}] if lines else []
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "id": "0",
        "metadata": {},
        "outputs": outputs,
        "source": ["import warnings"],
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook)


def report_zip(cases: list[tuple[str, str, float]], warnings: dict[str, list[str]]) -> bytes:
    """A notebook-report artifact as the generated notebooks workflow uploads it: paths
    `$RUNNER_TEMP/junit.xml` and `$RUNNER_TEMP/executed-notebooks/`, which
    actions/upload-artifact roots at their least common ancestor (its README, "Upload using
    multiple paths"): `junit.xml`, `executed-notebooks/notebooks/...`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("junit.xml", junit_xml(cases))
        for path, *_ in cases:
            archive.writestr(
                f"executed-notebooks/{path}", executed_notebook(warnings.get(path, []))
            )
    return buffer.getvalue()


NOTEBOOKS = ("notebooks/01 train.ipynb", "notebooks/02-evaluate.ipynb")
TORCH_LOAD = "FutureWarning: You are using torch.load with weights_only=False"
DATALOADER = "UserWarning: This DataLoader will create 4 worker processes"
STATES = (
    "current",
    "behind",
    "disabled_inactivity",
    "failing notebook",
    "update PR failing checks",
    "no runs for 90 days",
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_monday(now: datetime) -> datetime:
    """The notebooks workflow's last firing before ``now`` (cron 17 5 * * 1, Mondays)."""
    day = now - timedelta(days=now.weekday())
    moment = day.replace(hour=5, minute=17, second=0, microsecond=0)
    return moment if moment <= now else moment - timedelta(days=7)


def fleet_repo(index: int, slug: str, state: str, now: datetime) -> dict:
    """One repo's payloads in ``state`` (one of STATES), its numbers unique by ``index``."""
    base = 1000 * (index + 1)
    last = _last_monday(now)
    if state == "no runs for 90 days":
        last -= timedelta(days=91)
    elif state == "disabled_inactivity":
        last -= timedelta(days=63)
    notebooks_state = "disabled_inactivity" if state == "disabled_inactivity" else "active"
    failing = state == "failing notebook"
    repo = {
        "workflows": [
            workflow(base + 1, "notebooks.yml", notebooks_state, slug),
            workflow(base + 2, "template-update.yml", "active", slug),
        ],
        "runs": [],
        "issues": [issue(1, slug, "Typo in the README", ["bug"])],
        "artifacts": [],
        "zips": {},
    }
    for week in range(5):
        created = last - timedelta(days=7 * week)
        broke = failing and week == 0
        run_id = base + 100 + week
        repo["runs"].append(
            run(run_id, base + 1, "schedule", "failure" if broke else "success", _stamp(created))
        )
        cases = [
            (NOTEBOOKS[0], "passed", 20.0 + 2 * (4 - week) + index % 3),
            (NOTEBOOKS[1], "failed" if broke else "passed", 5.0 + week * 0.1),
        ]
        if index % 5 == 0:
            cases.append(("notebooks/03 gpu.ipynb", "skipped", 0.0))
        warnings = {NOTEBOOKS[0]: [TORCH_LOAD]} if index % 2 == 0 else {}
        if index % 3 == 0:
            warnings[NOTEBOOKS[1]] = [DATALOADER]
        data = report_zip(cases, warnings)
        number = base + 200 + week
        repo["artifacts"].append(artifact(number, slug, run_id, _stamp(created), len(data)))
        repo["zips"][number] = data
    repo["runs"].append(run(base + 190, base + 1, "push", "success", _stamp(now)))
    if failing:
        repo["issues"].append(
            issue(2, slug, "The weekly notebooks run fails", ["notebooks-failing"])
        )
    if state == "update PR failing checks":
        sha = f"{index:040x}"
        repo["pulls"] = [pull(3, slug, sha)]
        repo["statuses"] = {sha: []}
        repo["check_runs"] = {
            sha: [
                {"id": 1, "name": "pip (Python 3.11)", "status": "completed",
                 "conclusion": "failure", "head_sha": sha},
                {"id": 2, "name": "hygiene", "status": "completed",
                 "conclusion": "success", "head_sha": sha},
            ]
        }  # fmt: skip
    return repo


def mixed_fleet(slugs: list[str], now: datetime | None = None) -> tuple[dict, dict]:
    """Payloads for ``slugs`` in the STATES, in turn; returns (repos, slug -> state)."""
    now = now or datetime.now(UTC)
    states = {slug: STATES[i % len(STATES)] for i, slug in enumerate(slugs)}
    repos = {slug: fleet_repo(i, slug, states[slug], now) for i, slug in enumerate(slugs)}
    return repos, states
