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
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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
        payload = b"" if body is None else json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def answer(self, method: str, path: str, query: dict, headers) -> tuple[int, object, dict]:
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
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}


DOCS = "https://docs.github.com/rest"
