"""A recording stand-in for the GitHub CLI (`gh`), for tests of the generated workflows' scripts.

No GitHub here: the tests put a `gh` on PATH that runs this file. It keeps a small repository
state in a JSON file (issues, labels, workflows, commit statuses, dispatched runs), answers the
subcommands the workflows use with the JSON shapes and field names of GitHub's REST API and of
`gh ... --json`, and records every call (argv, GH_TOKEN, GH_REPO). A flag the real `gh` does not
have, an unknown subcommand or endpoint, or a repo other than the state's fails loudly, so a
typo in a workflow cannot pass.

    stand_in = GhStandIn(tmp_path, repo="ada/digits-cnn", workflows=[...])
    env = stand_in.env()        # PATH with the stand-in first, GH_STAND_IN_STATE
    ... run a workflow step with env ...
    stand_in.calls              # [["issue", "list", ...], ...]
    stand_in.state["issues"]    # what the step left
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

STATE_ENV = "GH_STAND_IN_STATE"


class GhStandIn:
    """The stand-in's state file and a bin folder whose `gh` runs this module."""

    def __init__(self, root: Path, repo: str, workflows: list[dict] | None = None, **state):
        self.bin = root / "gh-bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.state_file = root / "gh-state.json"
        shim = self.bin / "gh"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
        shim.chmod(0o755)
        initial = {
            "repo": repo,
            "issues": [],
            "labels": {},
            "workflows": workflows or [],
            "statuses": [],
            "dispatches": [],
            "calls": [],
            "token": "",
        }
        initial.update(state)
        self.save(initial)

    @property
    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def save(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state, indent=1))

    @property
    def calls(self) -> list[list[str]]:
        return [call["argv"] for call in self.state["calls"]]

    def forget_calls(self) -> None:
        state = self.state
        state["calls"] = []
        self.save(state)

    def env(self, base: dict | None = None) -> dict:
        env = dict(os.environ if base is None else base)
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env[STATE_ENV] = str(self.state_file)
        return env


# --- the stand-in itself (runs as `gh`) ---


class Refused(Exception):
    """What the real gh would refuse, or what the stand-in does not know: exit 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refused(f"{self.prog}: {message}")


def parser(prog: str) -> Parser:
    return Parser(prog=f"gh {prog}", add_help=False)


def repo_of(state: dict) -> str:
    repo = os.environ.get("GH_REPO", "")
    if repo != state["repo"]:
        raise Refused(f"GH_REPO is {repo!r}, the stand-in serves {state['repo']!r}")
    return repo


def find_issue(state: dict, number: str) -> dict:
    for issue in state["issues"]:
        if str(issue["number"]) == number:
            return issue
    raise Refused(f"GraphQL: Could not resolve to an issue with the number of {number}.")


def issue_command(state: dict, args: list[str]) -> str:
    repo = repo_of(state)
    action, rest = args[0], args[1:]
    if action == "list":
        p = parser("issue list")
        p.add_argument("--label", "-l", action="append", default=[])
        p.add_argument("--state", "-s", default="open", choices=["open", "closed", "all"])
        p.add_argument("--json", required=True)
        p.add_argument("--limit", "-L", type=int, default=30)
        a = p.parse_args(rest)
        fields = a.json.split(",")
        found = [
            i
            for i in sorted(state["issues"], key=lambda i: -i["number"])
            if a.state in ("all", i["state"]) and set(a.label) <= set(i["labels"])
        ][: a.limit]
        known = {"number", "title", "url", "state", "labels"}
        if not set(fields) <= known:
            raise Refused(f"Unknown JSON field: {sorted(set(fields) - known)}")
        return json.dumps([{f: issue_field(i, f, repo) for f in fields} for i in found])
    if action == "create":
        p = parser("issue create")
        p.add_argument("--title", "-t", required=True)
        p.add_argument("--body-file", "-F", required=True)
        p.add_argument("--label", "-l", action="append", default=[])
        a = p.parse_args(rest)
        for label in a.label:
            if label not in state["labels"]:
                raise Refused(f"could not add label: '{label}' not found")
        number = max([i["number"] for i in state["issues"]], default=0) + 1
        state["issues"].append(
            {
                "number": number,
                "title": a.title,
                "body": Path(a.body_file).read_text(),
                "labels": a.label,
                "state": "open",
                "state_reason": None,
                "comments": [],
            }
        )
        return f"https://github.com/{repo}/issues/{number}\n"
    if action == "comment":
        p = parser("issue comment")
        p.add_argument("number")
        p.add_argument("--body-file", "-F", required=True)
        a = p.parse_args(rest)
        find_issue(state, a.number)["comments"].append(Path(a.body_file).read_text())
        return f"https://github.com/{repo}/issues/{a.number}#issuecomment-1\n"
    if action == "close":
        p = parser("issue close")
        p.add_argument("number")
        p.add_argument("--comment", "-c")
        p.add_argument("--reason", "-r", choices=["completed", "not planned"])
        a = p.parse_args(rest)
        issue = find_issue(state, a.number)
        if a.comment:
            issue["comments"].append(a.comment)
        issue["state"] = "closed"
        issue["state_reason"] = (a.reason or "completed").replace(" ", "_")
        return ""
    raise Refused(f"unknown command: gh issue {action}")


def issue_field(issue: dict, field: str, repo: str):
    if field == "url":
        return f"https://github.com/{repo}/issues/{issue['number']}"
    if field == "labels":
        return [{"name": name} for name in issue["labels"]]
    if field == "state":
        return issue["state"].upper()
    return issue[field]


def label_command(state: dict, args: list[str]) -> str:
    repo_of(state)
    if args[:1] != ["create"]:
        raise Refused(f"unknown command: gh label {' '.join(args[:1])}")
    p = parser("label create")
    p.add_argument("name")
    p.add_argument("--color", "-c", default="ededed")
    p.add_argument("--description", "-d", default="")
    p.add_argument("--force", "-f", action="store_true")
    a = p.parse_args(args[1:])
    if a.name in state["labels"] and not a.force:
        raise Refused(f'label with name "{a.name}" already exists; use `--force` to update')
    state["labels"][a.name] = {"color": a.color, "description": a.description}
    return ""


def workflow_command(state: dict, args: list[str]) -> str:
    repo_of(state)
    if args[:1] != ["run"]:
        raise Refused(f"unknown command: gh workflow {' '.join(args[:1])}")
    p = parser("workflow run")
    p.add_argument("workflow")
    p.add_argument("--ref", "-r")
    p.add_argument("--field", "-f", action="append", default=[])
    a = p.parse_args(args[1:])
    names = {Path(w["path"]).name for w in state["workflows"]}
    if a.workflow not in names:
        raise Refused(f"could not find any workflows named {a.workflow}")
    state["dispatches"].append({"workflow": a.workflow, "ref": a.ref, "fields": a.field})
    return ""


def api_command(state: dict, args: list[str]) -> str:
    p = parser("api")
    p.add_argument("endpoint")
    p.add_argument("--method", "-X")
    p.add_argument("--raw-field", "-f", action="append", default=[])
    a = p.parse_args(args)
    fields = dict(field.split("=", 1) for field in a.raw_field)
    method = a.method or ("POST" if fields else "GET")  # as gh does
    repo = state["repo"]
    endpoint = a.endpoint.lstrip("/")
    if method == "GET" and endpoint == f"repos/{repo}/actions/workflows?per_page=100":
        return json.dumps({"total_count": len(state["workflows"]), "workflows": state["workflows"]})
    match = re.fullmatch(rf"repos/{re.escape(repo)}/actions/workflows/(\d+)/enable", endpoint)
    if method == "PUT" and match:
        for workflow in state["workflows"]:
            if str(workflow["id"]) == match[1]:
                workflow["state"] = "active"
                return ""
        raise Refused("Not Found (HTTP 404)")
    match = re.fullmatch(rf"repos/{re.escape(repo)}/statuses/([0-9a-f]{{40}})", endpoint)
    if method == "POST" and match:
        if fields.get("state") not in ("error", "failure", "pending", "success"):
            raise Refused("Validation Failed (HTTP 422)")
        status = {"sha": match[1], **fields}
        state["statuses"].append(status)
        return json.dumps({"state": fields["state"], "context": fields.get("context", "default")})
    raise Refused(f"Not Found (HTTP 404): {method} {endpoint}")


def auth_command(state: dict, args: list[str]) -> str:
    if args != ["token"]:
        raise Refused(f"unknown command: gh auth {' '.join(args)}")
    if not state["token"]:
        raise Refused("no oauth token found for github.com")
    return state["token"] + "\n"


COMMANDS = {
    "issue": issue_command,
    "label": label_command,
    "workflow": workflow_command,
    "api": api_command,
    "auth": auth_command,
}


def main(argv: list[str]) -> int:
    path = Path(os.environ[STATE_ENV])
    state = json.loads(path.read_text())
    state["calls"].append(
        {"argv": argv, "GH_TOKEN": os.environ.get("GH_TOKEN"), "GH_REPO": os.environ.get("GH_REPO")}
    )
    try:
        if not argv or argv[0] not in COMMANDS or len(argv) < 2:
            raise Refused(f"unknown command: gh {' '.join(argv)}")
        output = COMMANDS[argv[0]](state, argv[1:])
    except Refused as refused:
        path.write_text(json.dumps(state, indent=1))
        print(refused, file=sys.stderr)
        return 1
    path.write_text(json.dumps(state, indent=1))
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
