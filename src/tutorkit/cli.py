"""The ``tutorkit`` command line: argparse in front, the work in the other modules.

Only argparse is imported at start-up, so ``tutorkit --help`` is instant; copier and rich are
imported by the command that needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from tutorkit import __version__
from tutorkit.template import DEFAULT_TEMPLATE_URL, TEMPLATE_URL_ENV

DESCRIPTION = """\
Create, update and check companion repos of ML tutorials, from the tutorkit Copier template.

  tutorkit new DEST        start a companion repo (offline, from the template in this install)
  tutorkit adopt REPO      bring a tutorial repo tutorkit never made under the template
  tutorkit status [REPO]   which repos are behind the latest template release
  tutorkit update [REPO]   roll a template release into one repo or a whole fleet
  tutorkit check [REPO]    is a repo healthy (answers, notebooks, environments, configs, seeds, CI)
  tutorkit fleet init DEST a fleet repo: a registry of your repos and their dashboard on Pages
  tutorkit deps [REPO]     pin what the notebooks import, as of the repo's last commit
  tutorkit lock [REPO]     write requirements.lock: every package pinned, hashed, as of a date

REPO is a repo, or a folder whose subfolders are repos (a fleet); it defaults to the current folder.
Exit status: 0 when all is well, 1 when a repo needs attention, 2 for a usage error.
"""


def _repos_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "repos", nargs="*", metavar="REPO", help="repos or fleet folders (default: .)"
    )


def _answer_options(parser: argparse.ArgumentParser, url_help: str, example: str) -> None:
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"answer a template question (repeatable), e.g. --data {example}",
    )
    parser.add_argument("--template-url", help=url_help)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (also what the docs' CLI reference is generated from)."""
    parser = argparse.ArgumentParser(
        prog="tutorkit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tutorkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    url_help = (
        "canonical git URL of the template recorded in the answers file "
        f"(default: ${TEMPLATE_URL_ENV}, else {DEFAULT_TEMPLATE_URL})"
    )

    new = commands.add_parser(
        "new",
        help="create a companion repo from the template embedded in this install",
        description=(
            "Create a companion repo in DEST (a new or empty folder) from the template shipped "
            "with this tutorkit, without network. The repo gets a git history with one commit, "
            "and its .copier-answers.yml names the template's git URL and the tag "
            f"v{__version__}, so `tutorkit update` and plain `copier update` work later."
        ),
    )
    new.add_argument("dest", metavar="DEST", help="folder to create (must not exist or be empty)")
    new.add_argument("--framework", help="deep-learning framework (pytorch or tensorflow)")
    new.add_argument(
        "--defaults",
        action="store_true",
        help="answer every question not given with its default (implied when not on a terminal)",
    )
    _answer_options(new, url_help, example="project_title='Digits CNN'")

    adopt = commands.add_parser(
        "adopt",
        help="bring an existing tutorial repo under the template (CI, pre-commit, updates)",
        description=(
            "Add the template's infrastructure to a tutorial repo that tutorkit did not create: "
            "the CI workflows, pre-commit and an answers file naming the template's git URL and "
            f"the tag v{__version__}, in one commit. The answers are inferred from the repo "
            "(README, origin remote, the notebooks' imports, Python version file, first "
            "author) and can be given with --data and --framework. None of the repo's own files "
            "changes (with --badge, the README gets a CI badge line under its first heading). "
            "Refused, with nothing changed, when REPO is not a git repository's top folder, has "
            "uncommitted changes, is already a tutorkit repo, or has a file where the template "
            "puts one. Then `tutorkit check REPO` lists what remains to do."
        ),
    )
    adopt.add_argument("repo", metavar="REPO", help="the tutorial repo (a git repository)")
    adopt.add_argument("--framework", help="pytorch or tensorflow (default: from the imports)")
    _answer_options(adopt, url_help, example="github_owner=ada")
    adopt.add_argument(
        "--badge", action="store_true", help="add the CI badge under the README's first heading"
    )
    _json_option(adopt)

    update = commands.add_parser(
        "update",
        help="roll a template release into repos, keeping every edit",
        description=(
            "Update each REPO to the latest template tag (or --to VERSION), several repos at a "
            "time, the template fetched once. Each update is computed away from the working tree "
            "(the template rendered with Copier at both versions) and written all at once, only "
            "if the repo did not change meanwhile; Ctrl-C or kill leaves each repo as it was or "
            "fully updated. The author's files (README, configs, model, data) are left alone, "
            "with the template's change as a suggestion; notebooks are merged cell by cell. A "
            "repo with uncommitted changes or without a valid answers file is refused and left "
            "untouched. Conflicts are marked (<<<<<<<, inside the cell for a notebook) and "
            "reported. Ends with a table; exits 1 when any repo needs attention, 130 when "
            "interrupted."
        ),
    )
    _repos_argument(update)
    update.add_argument(
        "--to", metavar="VERSION", help="template tag to update to (default: latest)"
    )
    update.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="repos updated at the same time (default: number of CPUs)",
    )
    update.add_argument(
        "--branch",
        metavar="NAME",
        help="commit each update on a new branch NAME; the current branch and files stay as is",
    )
    update.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would change (in a temporary clone) without changing any repo",
    )
    update.add_argument(
        "--wave",
        metavar="NAME",
        help="update only the repos of this wave of the registry (--registry), e.g. canary",
    )
    update.add_argument(
        "--registry",
        metavar="FILE",
        default="fleet.yml",
        help="with --wave: the fleet repo's registry (default: fleet.yml)",
    )
    _json_option(update)

    status = commands.add_parser(
        "status",
        help="show each repo's template version and whether it is behind",
        description=(
            "For each REPO: framework, template version, latest template tag and whether it is "
            "behind. Each template URL is asked for its tags once (git ls-remote) for the whole "
            "fleet. With --github, also what GitHub says: whether the notebooks workflow is "
            "active or disabled (and why), the last scheduled run, the open template-update "
            "pull request and its checks, open tracking issues. Exits 1 when a repo is behind, "
            "cannot be read or, with --github, needs its author."
        ),
    )
    _repos_argument(status)
    status.add_argument(
        "--github",
        action="store_true",
        help="also ask GitHub's API (token: $GH_TOKEN, $GITHUB_TOKEN or `gh auth token`; "
        "API: $GITHUB_API_URL; all requests within $TUTORKIT_GITHUB_DEADLINE seconds, "
        "default 300)",
    )
    status.add_argument(
        "--fix",
        action="store_true",
        help="with --github: re-enable the workflows GitHub disabled for inactivity",
    )
    status.add_argument(
        "--registry",
        metavar="FILE",
        help="with --github: a fleet repo's fleet.yml; each repo gets its wave, and the "
        "dashboard shows the rollout of the latest template release, wave by wave",
    )
    status.add_argument(
        "--html",
        metavar="DIR",
        help="with --github: also write the fleet dashboard, DIR/index.html (a static page; "
        "adds each repo's last notebook reports and releases behind) and DIR/status.json",
    )
    _json_option(status)

    check = commands.add_parser(
        "check",
        help="check that a repo is healthy (rules TK101-TK120, TK201 with --run)",
        description=(
            "Apply tutorkit's rules to REPO: TK101 answers file valid, TK102 notebooks without "
            "outputs, TK103 pyproject.toml, requirements.txt and environment.yml agree, TK104 "
            "configs load and have a seed, TK105 seeds set in the package, TK106 CI workflow with "
            "a schedule, TK109 notebooks.toml valid, TK120 no update conflict left; warnings: "
            "TK107 demo text left after the "
            "data changed, TK108 badges naming the placeholder owner, TK110 a template source "
            "that Copier or Renovate cannot update from everywhere. "
            "--run adds TK201: execute the notebooks in smoke mode; --colab DIR adds TK112: what "
            "the install cell does on the Colab runtime whose package list DIR holds. "
            "Each failure names a fix and "
            "its docs/checks.md anchor. Exits 1 when a rule fails (a warning alone: 0)."
        ),
    )
    check.add_argument("repo", nargs="?", default=".", metavar="REPO", help="the repo (default: .)")
    check.add_argument(
        "--run",
        action="store_true",
        help=(
            "also run the notebooks through the repo's runner, as its CI runs them: "
            "TUTORIAL_PROFILE=smoke python .github/scripts/notebooks.py notebooks (an adopted "
            "repo: every notebook, `.` for `notebooks`)"
        ),
    )
    check.add_argument(
        "--colab",
        metavar="DIR",
        help=(
            "also TK112: compare with the Colab runtime in DIR (pip-freeze.txt and os-info.txt, "
            "as the googlecolab/backend-info repository publishes them)"
        ),
    )
    _json_option(check)

    fleet = commands.add_parser(
        "fleet",
        help="a fleet repo: the registry of your companion repos and their dashboard",
        description=(
            "`fleet init DEST` creates a fleet repo from the template (copier's kind=fleet): "
            "fleet.yml, the registry of your companion repos (repo, wave, notes), and a daily "
            "workflow that publishes `tutorkit status --github --html` to GitHub Pages. "
            "`fleet clone REGISTRY DIR` makes a shallow clone of each listed repo in DIR (what "
            "that workflow runs status on); the token ($GH_TOKEN) goes to $GITHUB_SERVER_URL "
            "only, as an HTTP header."
        ),
    )
    actions = fleet.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="create a fleet repo in DEST",
        description=(
            "Create a fleet repo in DEST from the template shipped with this tutorkit (the "
            "answer kind=fleet), offline, with one commit: fleet.yml (the registry: repo, wave, "
            "notes) and the dashboard and rollout workflows. Then list your repos in fleet.yml."
        ),
    )
    init.add_argument("dest", metavar="DEST", help="folder to create (must not exist or be empty)")
    _answer_options(init, url_help, example="github_owner=ada")
    clone = actions.add_parser(
        "clone",
        help="shallow-clone the registry's repos into DIR",
        description=(
            "Clone each repo of REGISTRY (shallow) into DIR/owner__name from $GITHUB_SERVER_URL "
            "(default https://github.com), its origin remote set to its github.com URL; a "
            "token in $GH_TOKEN goes to that server only, as an HTTP header. Exits 1 when a "
            "repo cannot be cloned (the others are)."
        ),
    )
    clone.add_argument("registry", metavar="REGISTRY", help="the fleet repo's fleet.yml")
    clone.add_argument("dir", metavar="DIR", help="folder for the clones (owner__name)")
    clone.add_argument("--wave", metavar="NAME", help="only the repos of this wave")
    rollout = actions.add_parser(
        "rollout",
        help="start the template update of the repos whose wave's turn it is",
        description=(
            "Roll the latest template release out wave by wave: start (workflow_dispatch) the "
            "template-update workflow of each repo of the first wave (--first, default canary) "
            "that has no update pull request yet, and of the other repos only once every "
            "first-wave repo has taken the release (its update pull request's checks passed, "
            "or it is current). CLONES: the clones `fleet clone` made. Needs a token that may "
            "start the repos' workflows (actions: write). Exits 1 when a first-wave update "
            "fails (the rest wait)."
        ),
    )
    rollout.add_argument("registry", metavar="REGISTRY", help="the fleet repo's fleet.yml")
    rollout.add_argument("clones", metavar="CLONES", help="folder of the registry's clones")
    rollout.add_argument("--first", metavar="WAVE", default="canary", help="default: canary")
    rollout.add_argument(
        "--dry-run", action="store_true", help="say which updates would start; start none"
    )
    _json_option(rollout)
    deps = commands.add_parser(
        "deps",
        help="propose a pinned requirements.txt from what the notebooks and scripts import",
        description=(
            "Find the third-party modules REPO's notebooks and scripts import, map them to their "
            "distributions (pipreqs' mapping), and pin them with their dependencies as the "
            "package index stood on the repo's last commit date (uv pip compile "
            "--exclude-newer). Prints the proposal and the date used; --write saves it as a new "
            "requirements.txt (never replacing one)."
        ),
    )
    deps.add_argument("repo", nargs="?", default=".", metavar="REPO", help="the repo (default: .)")
    deps.add_argument("--date", metavar="YYYY-MM-DD", help="pin as of this date instead")
    deps.add_argument("--write", action="store_true", help="save it as a new requirements.txt")
    _json_option(deps)
    locker = commands.add_parser(
        "lock",
        help="write requirements.lock: every package pinned and hashed, as of a date",
        description=(
            "Resolve REPO's requirements.txt (its pins and, through -e .[dev], pyproject.toml's "
            "dependencies) with uv pip compile --generate-hashes --exclude-newer DATE for Linux "
            "x86-64 and the repo's Python, and write requirements.lock. DATE is the one the "
            "lock records (or today for a first lock): the same date gives the same lock."
        ),
    )
    locker.add_argument(
        "repo", nargs="?", default=".", metavar="REPO", help="the repo (default: .)"
    )
    locker.add_argument("--date", metavar="YYYY-MM-DD", help="resolve as of this date instead")
    locker.add_argument(
        "--wheels",
        metavar="DIR",
        help="take wheels from DIR instead of requirements.txt's extra index (PyTorch's CPU index)",
    )
    locker.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail when requirements.lock differs from the resolution",
    )
    return parser


def _cmd_new(args) -> int:
    from tutorkit.create import create
    from tutorkit.report import progress

    defaults = args.defaults or not sys.stdin.isatty()
    # Copier asks its questions on the terminal unless --defaults: no spinner over the prompts.
    with progress("Rendering the template", None) if defaults else contextlib.nullcontext():
        path = create(
            args.dest,
            framework=args.framework,
            defaults=defaults,
            data_pairs=args.data,
            url_override=args.template_url,
        )
    print(f"Created {path} (tutorkit template v{__version__}); next: cd {path}")
    return 0


def _cmd_adopt(args) -> int:
    from tutorkit.adopt import adopt
    from tutorkit.report import print_adoption, print_json, progress

    with progress("Adopting", None):
        result = adopt(
            args.repo,
            framework=args.framework,
            data_pairs=args.data,
            url_override=args.template_url,
            badge=args.badge,
        )
    if args.json:
        print_json([result.to_json()])
    else:
        print_adoption(result)
    return 0


def _update_options(args):
    """The options of ``tutorkit update``, checked (a bad one is a usage error)."""
    from tutorkit.errors import UsageError
    from tutorkit.git import valid_branch_name
    from tutorkit.update import Options

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1.")
    if args.branch is not None and not valid_branch_name(args.branch):
        raise UsageError(f"--branch {args.branch!r} is not a branch name git accepts.")
    return Options(branch=args.branch or "", dry_run=args.dry_run)


def _cmd_update(args) -> int:
    import functools

    from tutorkit.fleet import deferred_signals
    from tutorkit.report import print_json, print_update_table
    from tutorkit.update import update_fleet

    choose = None
    if args.wave:
        choose = functools.partial(_plans_in_wave, wave=args.wave, registry=args.registry)
    options = _update_options(args)
    results = update_fleet(args.repos, options, to=args.to, jobs=args.jobs, choose=choose)
    with deferred_signals():  # the report is printed whole, even when an interrupt arrives
        if args.json:
            print_json([r.to_json() for r in results])
        else:
            print_update_table(results)
        sys.stdout.flush()
    if any(r.interrupted for r in results):
        print(f"tutorkit: interrupted; {INTERRUPTED['update']}", file=sys.stderr)
        return 130
    return 1 if any(r.needs_attention for r in results) else 0


def _plans_in_wave(plans: list, wave: str, registry: str) -> list:
    """The plans of the repos that the registry puts in ``wave`` (by their GitHub name)."""
    from pathlib import Path

    from tutorkit.errors import TutorkitError
    from tutorkit.github import repo_slug
    from tutorkit.registry import in_wave, load_registry

    wanted = in_wave(load_registry(Path(registry)), wave, Path(registry))
    chosen = []
    for plan in plans:
        try:
            slug = repo_slug(plan.repo, plan.answers.data if plan.answers else {})
        except TutorkitError:
            continue
        if slug.lower() in wanted:
            chosen.append(plan)
    if not chosen:
        raise TutorkitError(
            f"None of the repos given is in wave {wave!r} of {registry}: check their origin "
            "remotes (or answers) against the registry."
        )
    return chosen


def _set_waves(statuses: list, registry: str) -> None:
    from pathlib import Path

    from tutorkit.registry import load_registry

    waves = {m.repo.lower(): m.wave for m in load_registry(Path(registry))}
    for status in statuses:
        status.wave = waves.get(status.github.repo.lower(), "") if status.github else ""


def _github_client(args):
    """The GitHub client ``status`` asks with (None without --github); options that need
    --github without it are usage errors."""
    from tutorkit.errors import UsageError

    needing = [f"--{o}" for o in ("fix", "html", "registry") if getattr(args, o)]
    if needing and not args.github:
        raise UsageError(f"{needing[0]} works with --github: add --github.")
    if not args.github:
        return None
    from tutorkit.github import Client, api_url, deadline, find_token

    return Client(find_token(), api_url(), deadline())


def _cmd_status(args) -> int:
    from tutorkit.report import print_json, print_status_table, progress
    from tutorkit.repos import discover
    from tutorkit.status import fleet_status

    client = _github_client(args)
    what = "Reading repos, template tags" + (" and GitHub" if client else "")
    with progress(what, None):
        statuses = fleet_status(
            discover(args.repos), github=client, fix=args.fix, history=bool(args.html)
        )
    if args.registry:
        _set_waves(statuses, args.registry)
    if args.html:
        from pathlib import Path

        from tutorkit.dashboard import write_dashboard

        page = write_dashboard(Path(args.html), [s.to_json() for s in statuses])
        print(f"tutorkit: wrote the dashboard {page}", file=sys.stderr)
    if args.json:
        print_json([s.to_json() for s in statuses])
    else:
        print_status_table(statuses)
    return 1 if any(s.needs_attention for s in statuses) else 0


def _cmd_check(args) -> int:
    from pathlib import Path

    from tutorkit.checks import checkable, notebook_interpreter, run_checks
    from tutorkit.checks.colab import load_runtime
    from tutorkit.report import print_check_table, print_json, progress

    repo = Path(args.repo).resolve()
    checkable(repo)
    python = notebook_interpreter(repo) if args.run else None
    if python:
        print(
            f"tutorkit: TK201 runs the notebooks of {repo} with {python.path} ({python.source}); "
            "this executes the repo's code.",
            file=sys.stderr,
        )
    colab = load_runtime(Path(args.colab).resolve()) if args.colab else None
    with progress("Running the notebooks" if args.run else "Checking", None):
        results = run_checks(repo, run_notebooks=args.run, python=python, colab=colab)
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        print_check_table(repo, results)
    return 1 if any(r.result == "fail" for r in results) else 0


def _fleet_rollout(args) -> int:
    from pathlib import Path

    from tutorkit.git import git
    from tutorkit.github import Client, api_url, deadline, dispatch_update, find_token
    from tutorkit.registry import load_registry
    from tutorkit.report import print_json, print_rollout
    from tutorkit.repos import discover
    from tutorkit.rollout import plan
    from tutorkit.status import fleet_status

    waves = {m.repo.lower(): m.wave for m in load_registry(Path(args.registry))}
    client = Client(find_token(), api_url(), deadline())
    statuses = fleet_status(discover([args.clones]), github=client)
    rollout = plan([s.to_json() for s in statuses], waves, args.first)
    clones = {s.github.repo: Path(s.repo) for s in statuses if s.github}
    for slug in [] if args.dry_run else rollout.start:
        branch = git(clones[slug], "rev-parse", "--abbrev-ref", "HEAD").strip()
        dispatch_update(client, slug, branch)
    if args.json:
        print_json([{**rollout.to_json(), "dry_run": args.dry_run}])
    else:
        print_rollout(rollout, args.dry_run)
    return 1 if rollout.blocked else 0


def _cmd_fleet(args) -> int:
    from pathlib import Path

    if args.fleet_command == "init":
        from tutorkit.create import create
        from tutorkit.report import progress

        with progress("Rendering the template", None):
            path = create(
                args.dest,
                defaults=True,
                data_pairs=["kind=fleet", *args.data],
                url_override=args.template_url,
            )
        print(f"Created the fleet repo {path}; next: list your repos in {path / 'fleet.yml'}")
        return 0
    if args.fleet_command == "rollout":
        return _fleet_rollout(args)
    from tutorkit.registry import clone_members, in_wave, load_registry

    registry = Path(args.registry)
    members = load_registry(registry)
    if args.wave:
        wanted = in_wave(members, args.wave, registry)
        members = [m for m in members if m.repo.lower() in wanted]
    cloned, failed = clone_members(members, Path(args.dir))
    print(f"Cloned {len(cloned)} of {len(members)} repos into {args.dir}.")
    for why in failed:
        print(f"tutorkit: cannot clone {why}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_deps(args) -> int:
    from tutorkit.deps import propose
    from tutorkit.report import print_deps, print_json, progress

    with progress("Pinning the imports", None):
        proposal = propose(args.repo, date=args.date, write=args.write)
    if args.json:
        print_json([proposal.to_json()])
    else:
        print_deps(proposal)
    return 0


def _cmd_lock(args) -> int:
    from tutorkit.lock import LOCK, lock
    from tutorkit.report import progress

    with progress("Locking requirements.txt", None):
        locked = lock(args.repo, date=args.date, wheels=args.wheels, check=args.check)
    what = "is up to date" if not locked.changed else "written"
    print(
        f"{LOCK} {what}: {locked.packages} packages with their hashes, as the index stood on "
        f"{locked.date}, for Python {locked.python} on Linux x86-64."
    )
    return 0


INTERRUPTED = {
    "new": "nothing was created.",
    "adopt": "nothing was changed.",
    "update": "every repo is either as it was or fully updated (see docs/fleet.md).",
    "status": "nothing was changed.",
    "check": "nothing was changed.",
    "fleet": "the clones made so far are complete; nothing else was changed.",
    "deps": "nothing was written.",
    "lock": "requirements.lock is as it was.",
}
COMMANDS = {
    "new": _cmd_new,
    "adopt": _cmd_adopt,
    "update": _cmd_update,
    "status": _cmd_status,
    "check": _cmd_check,
    "fleet": _cmd_fleet,
    "deps": _cmd_deps,
    "lock": _cmd_lock,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tutorkit.errors import TutorkitError
    from tutorkit.fleet import sigterm_interrupts
    from tutorkit.git import REPOSITORY_VARIABLES
    from tutorkit.untrusted import printable

    for name in REPOSITORY_VARIABLES:  # from a git hook: they would point git (and Copier's git
        os.environ.pop(name, None)  # calls) at another repository than the one tutorkit names

    try:
        with sigterm_interrupts():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
            code = COMMANDS[args.command](args)
            sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except TutorkitError as exc:
        print(f"tutorkit: error: {printable(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"tutorkit: interrupted; {INTERRUPTED[args.command]}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tutorkit status --json | head -1`): stop quietly. Python's own
        # recipe (signal module docs): point stdout at devnull so the flush at exit cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
