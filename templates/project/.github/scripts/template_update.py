"""Report what `tutorkit update` changed, and prepare the template-update pull request.

The template-update workflow runs this right after its update command, in the repo's root,
with the update's changes not yet committed. It runs the copy committed on the branch the
workflow runs from (`git show HEAD:.github/scripts/template_update.py | python -`), so the
workflow and this script always come from the same template release.

What it does:

- reads `tutorkit update --json`'s report ($RUNNER_TEMP/tutorkit-update.json): a repo the
  update refused or failed ends the job with the reason; the files that are the author's (left
  alone, with the template's suggestion), the files kept deleted and the cells of notebook
  conflicts go into the pull request body;
- reads the template versions: `_commit` of `.copier-answers.yml` at HEAD (old) and now (new);
- finds conflicts: unmerged files, `*.rej` files and `<<<<<<<` markers (Copier exits 0 even
  when it leaves them);
- when the update changes a file under `.github/workflows/` and the workflow pushes with
  `GITHUB_TOKEN` (which GitHub does not allow to change workflow files), holds back every
  change under `.github/` (so workflows and their scripts stay from one release), keeps
  `_commit` at the old version (so the next update brings those changes again) and says so,
  with the diff, in the pull request body and the job summary;
- writes the pull request body, quoting the template's CHANGELOG.md sections from the new
  version down to the old one.

Environment: OWN_TOKEN ("true" when the workflow pushes with a GitHub App token or the
TEMPLATE_UPDATE_TOKEN secret, which may change workflow files), and what GitHub Actions sets:
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP.
Step outputs: old, new, title, conflicts, withheld, dispatch, body (the body file's path).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ANSWERS = ".copier-answers.yml"
WORKFLOWS = ".github/workflows/"
HELD_BACK = ".github"
COMMIT_LINE = re.compile(r"^_commit: *(.*?) *$", re.M)
SRC_LINE = re.compile(r"^_src_path: *(.*?) *$", re.M)
TOKEN_DOCS = "https://tutorkit.github.io/tutorkit/fleet/#workflow-token"
BODY_DIFF_LIMIT = 40_000  # a pull request body holds at most 65,536 characters
SUGGESTION_LIMIT = 8_000  # the template's suggestions for the author's files, in the body
REPORT = "tutorkit-update.json"
SUMMARY_DIFF_LIMIT = 400_000  # a job summary holds at most 1 MiB per step


def git(*args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        sys.exit(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def answer(pattern: re.Pattern, text: str) -> str:
    match = pattern.search(text)
    return match[1].strip("'\"") if match else ""


def update_report() -> dict:
    """The repo's result from `tutorkit update --json`; ends the job when there is none to use."""
    import json

    path = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / REPORT
    try:
        [result] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        sys.exit(f"::error::tutorkit update gave no report ({path}: {exc}).")
    if result["result"] in ("refused", "failed", "interrupted"):
        sys.exit(f"::error::tutorkit update {result['result']} this repo: {result['reason']}.")
    return result


YOURS = (
    "These files are yours once created (README, configs, model and data code, notebooks you "
    "rewrote): the update did not change them. The template's own change to each is shown; "
    "take what you like by hand."
)


def authors_section(result: dict, limit: int) -> str:
    """The files the update left alone because they are the author's, and what it suggests."""
    files = result.get("files", [])
    kept = [f for f in files if f["change"] == "author's"]
    deleted = ", ".join(f"`{f['path']}`" for f in files if f["change"] == "kept deleted")
    if not kept and not deleted:
        return ""
    lines = ["### Your files: left alone", ""]
    lines += [YOURS, ""] if kept else []
    for entry in kept:
        lines += kept_lines(entry, limit)
    lines += ["", f"Files you deleted stay deleted: {deleted}."] if deleted else []
    return "\n".join(lines)


def kept_lines(entry: dict, limit: int) -> list[str]:
    """One of the author's files, and the template's change to it (folded)."""
    detail = f": {entry['detail']}" if entry.get("detail") else ""
    lines = [f"- `{entry['path']}`{detail}"]
    if entry.get("suggestion"):
        lines += [
            "",
            f"  <details><summary>The template's change to {entry['path']}</summary>",
            "",
            fenced(entry["suggestion"], limit),
            "",
            "  </details>",
        ]
    return lines


def conflicts() -> list[str]:
    """Files the update left unmerged, with a .rej file, or with <<<<<<< markers."""
    found = {
        line.split("\t", 1)[1]
        for line in git("ls-files", "--unmerged").splitlines()
        if "\t" in line
    }
    found |= {
        path.as_posix()
        for path in Path(".").rglob("*.rej")
        if path.parts[0] != ".git" and path.is_file()
    }
    markers = git("grep", "--untracked", "-lI", "-e", "^<<<<<<< ", "--", ".", check=False)
    found |= set(markers.splitlines())
    return sorted(found)


def hold_back_github_changes(conflicted: list[str]) -> tuple[list[str], str]:
    """Undo every change under .github/; return the changed paths (with how) and the diff."""
    git("add", "--all", "--", HELD_BACK)
    names = git("diff", "--cached", "--no-renames", "--name-status", "HEAD", "--", HELD_BACK)
    diff = git("diff", "--cached", "--no-renames", "HEAD", "--", HELD_BACK)
    # --no-overlay also removes the files the update added (git >= 2.22).
    git("checkout", "--no-overlay", "HEAD", "--", HELD_BACK)
    how = {"A": "added", "D": "deleted", "M": "changed"}
    paths = []
    for line in names.splitlines():
        status, _, path = line.partition("\t")
        what = how.get(status[:1], "changed")
        paths.append(f"`{path}` ({what}{', with conflicts' if path in conflicted else ''})")
    return paths, diff


def workflow_files_changed() -> bool:
    status = git("status", "--porcelain", "--untracked-files=all", "--", WORKFLOWS)
    return bool(status.strip())


def changelog_notes(src: str, new: str, old: str) -> tuple[str, str]:
    """The template's CHANGELOG.md sections from `new` down to (not including) `old`, or why
    they could not be read."""
    if not src or not new or new == old:
        return "", ""
    clone = Path(tempfile.mkdtemp(dir=os.environ.get("RUNNER_TEMP"))) / "template"
    done = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", "--branch", new, "--", src, str(clone)],
        capture_output=True,
        text=True,
        check=False,
    )
    changelog = clone / "CHANGELOG.md"
    if done.returncode != 0 or not changelog.is_file():
        why = done.stderr.strip().splitlines()[-1:] or ["it has no CHANGELOG.md"]
        return "", f"The template's changelog could not be read from `{src}` ({why[0]})."
    return sections(changelog.read_text(encoding="utf-8"), new, old), ""


def sections(changelog: str, new: str, old: str) -> str:
    """The `## new` ... sections of a changelog, down to (not including) `## old`."""
    kept, keep = [], False
    for line in changelog.splitlines():
        if line == f"## {old}":
            break
        keep = keep or line == f"## {new}"
        if keep:
            kept.append("#### " + line[3:] if line.startswith("## ") else line)
    return "\n".join(kept).strip()


def fenced(text: str, limit: int) -> str:
    """`text` in a ```diff block (longer fences when it holds backticks), cut at `limit`."""
    if len(text) > limit:
        rest = text[limit:].count("\n")
        text = text[:limit] + f"\n... ({rest} more lines: run `git diff` after updating)\n"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}diff\n{text.rstrip()}\n{fence}"


def held_back_section(paths: list[str], diff: str, old: str, limit: int) -> str:
    listed = "\n".join(f"- {path}" for path in paths)
    return f"""### Workflow changes held back

GitHub does not let this workflow's token (`GITHUB_TOKEN`) create or change files under
`.github/workflows/`, so this pull request leaves out the template's changes to `.github/`:

{listed}

`_commit` in `.copier-answers.yml` stays at `{old}`, so the next update brings these changes
again (the files this pull request updates then merge cleanly).

<details><summary>The changes held back</summary>

{fenced(diff, limit)}

</details>

To apply them, either
- merge this pull request, then run `tutorkit update` (or `copier update --defaults
  --skip-answered`) in a clone of this repo, commit and push; or
- give the template-update workflow a token that may change workflows (a GitHub App, or a
  fine-grained token in the `TEMPLATE_UPDATE_TOKEN` secret: {TOKEN_DOCS}) and run it again
  (`gh workflow run template-update.yml`)."""


def verification(own_token: bool) -> str:
    if own_token:
        return "The `notebooks` workflow runs on this pull request: merge it when it is green."
    return (
        "GitHub starts no workflow for a pull request that `GITHUB_TOKEN` opens or updates, so "
        "the template-update workflow starts the `notebooks` workflow on the `template-update` "
        "branch; its result appears on this pull request as the `notebooks` status. Merge it "
        "when it is green."
    )


def write_outputs(values: dict[str, str]) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f"{name}={value}\n" for name, value in values.items())


def read_versions() -> tuple[str, str, str]:
    """The template version at HEAD (old) and now (new), and the answers file's text now."""
    before = git("show", f"HEAD:{ANSWERS}", check=False)
    answers = Path(ANSWERS)
    now = answers.read_text(encoding="utf-8") if answers.is_file() else ""
    return answer(COMMIT_LINE, before) or "unknown", answer(COMMIT_LINE, now) or "unknown", now


def hold_back(found: list[str], old: str, new: str, now: str) -> tuple[list[str], list[str], str]:
    """Hold back every change under .github/ and keep `_commit` at `old`: the conflicts left,
    the paths held back, and their diff."""
    paths, diff = hold_back_github_changes(found)
    if new != old:
        Path(ANSWERS).write_text(COMMIT_LINE.sub(lambda _: f"_commit: {old}", now, count=1))
    return [path for path in found if not path.startswith(f"{HELD_BACK}/")], paths, diff


def conflicts_section(found: list[str], details: dict[str, str]) -> str:
    if not found:
        return "No conflicts: the template changes merged cleanly with this repo's own edits."
    listed = "\n".join(
        f"- `{path}`" + (f": {details[path]}" if details.get(path) else "") for path in found
    )
    return (
        "**Conflicts to resolve by hand** (search for `<<<<<<<`, read any `.rej` file, "
        f"then delete it):\n\n{listed}"
    )


def body_parts(result: dict, versions: tuple[str, str, str], found: list[str]) -> list[str]:
    """The pull request body's parts: versions, changelog, conflicts, the author's files."""
    old, new, now = versions
    parts = [f"Template update from the tutorkit template: `{old}` -> `{new}`."]
    notes, notes_problem = changelog_notes(answer(SRC_LINE, now), new, old)
    if notes or notes_problem:
        parts.append(f"### What changed in the template\n\n{notes}" if notes else notes_problem)
    details = {f["path"]: f.get("detail", "") for f in result.get("files", [])}
    parts.append(conflicts_section(found, details))
    yours = authors_section(result, SUGGESTION_LIMIT)
    return parts + ([yours] if yours else [])


def write_body(parts: list[str], summary_parts: list[str]) -> Path:
    """The pull request body (printed too) and the job summary."""
    temp = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
    body = temp / "template-update.md"
    body.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(body.read_text(encoding="utf-8"))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write("\n\n".join(summary_parts) + "\n")
    return body


def main() -> None:
    own_token = os.environ.get("OWN_TOKEN", "false") == "true"
    result = update_report()
    versions = old, new, now = read_versions()
    found = conflicts()
    withheld = not own_token and workflow_files_changed()
    paths, diff = [], ""
    if withheld:
        found, paths, diff = hold_back(found, old, new, now)
    parts = body_parts(result, versions, found)
    summary_parts = list(parts)
    if withheld:
        parts.append(held_back_section(paths, diff, old, BODY_DIFF_LIMIT))
        summary_parts.append(held_back_section(paths, diff, old, SUMMARY_DIFF_LIMIT))
    parts.append(verification(own_token))
    summary_parts.append(parts[-1])
    body = write_body(parts, summary_parts)
    title = f"Template update: {old} -> {new}"
    write_outputs(
        {
            "old": old,
            "new": new,
            "title": title + (" (workflow changes held back)" if withheld else ""),
            "conflicts": "true" if found else "false",
            "withheld": "true" if withheld else "false",
            "dispatch": "false" if own_token else "true",
            "body": str(body),
        }
    )


if __name__ == "__main__":
    main()
