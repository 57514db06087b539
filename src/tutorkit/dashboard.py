"""The fleet dashboard: one static HTML page from the rows `tutorkit status --github --json` prints.

``write_dashboard(folder, rows)`` writes ``index.html`` and ``status.json`` (those rows) into
the folder. The page is built from nothing but the rows, so the page and the JSON agree: one
row a repo (template version and releases behind, the last scheduled notebooks run against the
workflow's cron, the workflow's state, tracking issues, the template-update pull request and
its checks, each notebook's last outcome and duration trend), and the deprecation radar (the
warnings the notebooks printed, grouped across the fleet by message).

Every value comes from repos and GitHub's answers, so it is untrusted: the page is rendered by
Jinja's sandbox with autoescaping, links are kept only when they are https URLs, and the page
carries a Content-Security-Policy that allows no network and only its own inline script (a
table sort, no framework).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tutorkit.untrusted import printable

TEMPLATE = Path(__file__).with_name("dashboard.html.jinja")
GRACE = timedelta(hours=12)  # GitHub starts scheduled runs late, sometimes by hours
MAX_MISSED = 1000  # cron firings counted after the last run


def _date(text: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} days" if days >= 2 else f"{delta.total_seconds() / 3600:.0f} hours"


def _missed(crons: list[str], since: datetime, now: datetime) -> tuple[int, datetime | None]:
    """How many cron firings passed (with grace) since ``since``, and the first one expected."""
    from cronsim import CronSim, CronSimError

    missed, first = 0, None
    for cron in crons:
        try:
            times = CronSim(cron, since.replace(tzinfo=None))
        except CronSimError:
            continue
        for count, moment in enumerate(times):
            moment = moment.replace(tzinfo=UTC)
            first = min(first, moment) if first else moment
            if moment + GRACE > now or count >= MAX_MISSED:
                break
            missed += 1
    return missed, first


def schedule_view(row: dict, now: datetime) -> dict:
    """The weekly-run cell: the last scheduled run, how long ago, and the firings it missed."""
    health = row.get("github") or {}
    crons = row.get("schedules") or []
    run = health.get("last_scheduled_run")
    started = _date(run["created_at"]) if run else None
    view = {"crons": crons, "quiet_hours": -1, "text": "no scheduled run yet", "missed": 0}
    view["result"] = (run.get("conclusion") or run.get("status") or "") if run else ""
    view["url"] = _link(run.get("html_url")) if run else ""
    view["overdue"], view["expected"] = False, ""
    if started is None:  # a new repo, or one whose runs GitHub no longer lists: no alarm
        return view
    missed, expected = _missed(crons, started, now)
    view["quiet_hours"] = int((now - started).total_seconds() // 3600)
    view["text"] = f"{view['result']} {started:%Y-%m-%d}, quiet for {_days(now - started)}"
    view["missed"] = missed
    view["overdue"] = missed > 0
    view["expected"] = f"{expected:%Y-%m-%d %H:%M} UTC" if expected else ""
    return view


def _link(url: object) -> str:
    """An https URL as given (the page escapes it), else nothing: no javascript: or data:."""
    text = str(url or "")
    return text if text.startswith("https://") and not any(c.isspace() for c in text) else ""


def _spark(durations: list[float]) -> str:
    """SVG polyline points for the durations, oldest first (numbers only)."""
    if len(durations) < 2:
        return ""
    top = max(durations) or 1.0
    step = 60 / (len(durations) - 1)
    return " ".join(f"{i * step:.1f},{16 - 14 * d / top:.1f}" for i, d in enumerate(durations))


def notebooks_view(reports: list[dict]) -> list[dict]:
    """Per notebook (newest report first in ``reports``): last outcome and its duration trend."""
    history: dict[str, list[dict]] = {}
    for report in reversed(reports):  # oldest first
        for case in report.get("cases", []):
            if str(case.get("file", "")).endswith(".ipynb"):
                history.setdefault(str(case["file"]), []).append(case)
    views = []
    for path, cases in sorted(history.items()):
        seconds = [float(c.get("seconds") or 0) for c in cases if c["outcome"] != "skipped"]
        trend = ""
        if len(seconds) >= 2:
            trend = f"{seconds[0]:.1f} s → {seconds[-1]:.1f} s"
        elif seconds:
            trend = f"{seconds[0]:.1f} s"
        views.append(
            {
                "path": path,
                "outcome": cases[-1]["outcome"],
                "runs": len(cases),
                "trend": trend,
                "points": _spark(seconds),
            }
        )
    return views


def pull_view(pull: dict | None) -> dict | None:
    if not pull:
        return None
    checks = pull["checks"]
    counts = [f"{checks[kind]} {kind}" for kind in ("passed", "failing", "pending") if checks[kind]]
    return {
        "number": pull["number"],
        "url": _link(pull.get("html_url")),
        "draft": pull.get("draft", False),
        "checks": ", ".join(counts) or "no checks",
        "failing": checks["failing"],
    }


def workflow_view(health: dict) -> dict:
    state = health.get("notebooks_workflow") or ""
    others = [Path(p).name for p in health.get("disabled_for_inactivity", [])]
    return {
        "state": state,
        "ok": state == "active",
        "also": ", ".join(others),
        "reenabled": ", ".join(Path(p).name for p in health.get("reenabled", [])),
    }


def template_view(row: dict) -> dict:
    behind_by = row.get("behind_by")
    if row.get("error"):
        return {"text": "unreadable", "behind": 999, "ok": False}
    if not row.get("behind"):
        return {"text": f"{row['version']} (current)", "behind": 0, "ok": True}
    count = f"{behind_by} release{'s' if behind_by != 1 else ''}" if behind_by else "releases"
    text = f"{row['version']}, {count} behind {row['latest']}"
    return {"text": text, "behind": behind_by or 1, "ok": False}


def _issue_view(issue: dict) -> dict:
    return {**issue, "url": _link(issue.get("html_url"))}


def repo_view(row: dict, now: datetime) -> dict:
    """What one table row shows, and the keys it sorts by."""
    health = row.get("github") or {}
    reports = row.get("notebook_reports") or []
    notebooks = notebooks_view(reports)
    view = {
        "name": health.get("repo") or Path(row["repo"]).name,
        "framework": row.get("framework", ""),
        "template": template_view(row),
        "schedule": schedule_view(row, now),
        "workflow": workflow_view(health),
        "issues": [_issue_view(issue) for issue in health.get("tracking_issues", [])],
        "pull": pull_view(health.get("update_pull_request")),
        "notebooks": notebooks,
        "failing": len([n for n in notebooks if n["outcome"] == "failed"]),
        "attention": list(health.get("attention", [])),
        "error": _error(row, health),
        "rollout": None,  # with waves: rollout_view sets {repo, wave, stage}
    }
    view["attention"] += _more_attention(view["schedule"], notebooks)
    return view


def _more_attention(schedule: dict, notebooks: list[dict]) -> list[str]:
    """What the dashboard adds to GitHub's reasons: a quiet schedule, failed notebooks."""
    found = [f"weekly run quiet ({schedule['missed']} missed)"] if schedule["overdue"] else []
    failed = [n["path"] for n in notebooks if n["outcome"] == "failed"]
    return found + [f"notebook {path} failed" for path in failed]


def _error(row: dict, health: dict) -> str:
    return row.get("error") or health.get("error") or row.get("reports_error") or ""


def deprecation_radar(rows: list[dict]) -> list[dict]:
    """Warnings from each repo's newest notebook report, grouped by message across the fleet."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        reports = row.get("notebook_reports") or []
        if not reports:
            continue
        repo = (row.get("github") or {}).get("repo") or Path(row["repo"]).name
        for notebook, messages in sorted(reports[0].get("warnings", {}).items()):
            for message in messages:
                groups.setdefault(message, []).append({"repo": repo, "notebook": notebook})
    radar = [
        {"message": message, "affected": found, "repos": len({f["repo"] for f in found})}
        for message, found in groups.items()
    ]
    return sorted(radar, key=lambda entry: (-entry["repos"], entry["message"]))


SORT_SCRIPT = """
(function () {
  var body = document.querySelector("#fleet tbody");
  var heads = document.querySelectorAll("#fleet th[data-key]");
  function value(row, key) {
    var text = row.getAttribute("data-" + key);
    return key === "name" ? text : Number(text);
  }
  function sortBy(key, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    heads.forEach(function (head) {
      var sorted = head.getAttribute("data-key") === key;
      head.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
    });
    history.replaceState(null, "", "#sort=" + (descending ? "-" : "") + key);
  }
  heads.forEach(function (head) {
    head.querySelector("button").addEventListener("click", function () {
      var key = head.getAttribute("data-key");
      sortBy(key, head.getAttribute("aria-sort") !== "descending" && key !== "name");
    });
  });
  var asked = /^#sort=(-?)([a-z]+)$/.exec(location.hash);
  var known = asked && document.querySelector('#fleet th[data-key="' + asked[2] + '"]');
  if (known) { sortBy(asked[2], asked[1] === "-"); } else { sortBy("attention", true); }
})();
"""


def _environment():
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATE.parent),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def rollout_view(rows: list[dict], views: list[dict], first: str = "canary") -> dict | None:
    """With waves (`status --registry`): each row's wave and stage, and the rollout's summary."""
    from tutorkit.rollout import plan, slug_of, waves_summary

    waves = {slug_of(row): row["wave"] for row in rows if row.get("wave")}
    if not waves:
        return None
    rollout = plan(rows, waves, first)
    stages = {r["repo"].lower(): r for r in rollout.rows}
    for row, view in zip(rows, views, strict=True):
        view["rollout"] = stages.get(slug_of(row))
    return {**rollout.to_json(), "summary": waves_summary(rollout.rows)}


def render(rows: list[dict], now: datetime | None = None) -> str:
    """The page for ``rows`` (what `tutorkit status --github --html --json` prints)."""
    from markupsafe import Markup

    now = now or datetime.now(UTC)
    digest = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
    views = [repo_view(row, now) for row in rows]
    rollout = rollout_view(rows, views)
    template = _environment().get_template(TEMPLATE.name)
    return template.render(
        repos=views,
        radar=deprecation_radar(rows),
        rollout=rollout,
        generated=f"{now:%Y-%m-%d %H:%M} UTC",
        needing=len([v for v in views if v["attention"] or v["error"]]),
        behind=len([row for row in rows if row.get("behind")]),
        script=Markup(SORT_SCRIPT),  # noqa: S704 (tutorkit's own constant, not input)
        script_hash=f"sha256-{digest}",
        clean=printable,
    )


def write_dashboard(folder: Path, rows: list[dict], now: datetime | None = None) -> Path:
    """``folder/index.html`` and ``folder/status.json`` (the rows); returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(render(rows, now), encoding="utf-8")
    (folder / "status.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return page
