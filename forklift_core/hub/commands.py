"""`forklift push`, `forklift pull` and `forklift secrets`: the Hub stage on the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from forklift_core.errors import BadInputError
from forklift_core.workspace import Workspace

AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _hub(args: argparse.Namespace) -> Any:
    from forklift_core.config import HubConfig
    from forklift_core.hub.auth import resolve_token
    from forklift_core.hub.client import Hub

    return Hub(resolve_token(), HubConfig(endpoint=args.endpoint or ""))


def _render_preview(preview: dict[str, Any]) -> str:
    lines = [preview["summary"], ("updates the repository at " + preview["head"][:10]) if preview["repo_exists"]
             else "creates the repository (" + ("private" if preview["repo_private"] else "PUBLIC") + ")"]
    for path, info in sorted(preview["files"].items()):
        lines.append(f"  {info['change']:>9}  {info['size']:>10,} B  {path}")
    lines += [f"problem: {p}" for p in preview["problems"]]
    return "\n".join(lines)


def _confirmed(args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise BadInputError("shown above is what would be pushed; add --yes to push it without a prompt")
    return input("Push it? [y/N] ").strip().lower() in ("y", "yes")


def _cmd_push(args: argparse.Namespace) -> int:
    from forklift_core.curate.export import DEFAULT_STATUSES, UNREVIEWED
    from forklift_core.hub import publish
    from forklift_core.hub.staging import STAGED, pushes

    paths = Workspace.default(args.workspace).project(args.project)
    if args.list:
        for staged in pushes(paths):
            print(f"{staged.id}  {staged.summary()}" + (f"  {staged.commit_url}" if staged.commit_url else ""))
        return 0
    hub = _hub(args)
    if args.resume:
        waiting = pushes(paths, STAGED)
        if not waiting:
            print("nothing staged: every push of this project has gone")
        for staged in waiting:
            done = publish.push(hub, paths, staged)
            print(f"pushed {done.summary()}\n  {done.commit_url}")
        return 0
    if not args.dataset and not args.model:
        raise BadInputError("say what to push: --dataset REPO and/or --run RUN --model REPO (or --resume, --list)")
    if args.model and not args.run:
        raise BadInputError("--model needs --run RUN (see `forklift runs --project NAME`)")
    private = not args.public
    staged = []
    if args.dataset:
        statuses = DEFAULT_STATUSES + (UNREVIEWED if args.include_unreviewed else ())
        staged.append(publish.stage_dataset(paths, args.dataset, private, statuses))
    if args.model:
        staged.append(publish.stage_adapter(paths, args.run, args.model, private, args.dataset or ""))
    previews = [publish.preview(hub, s) for s in staged]
    print("\n\n".join(_render_preview(p) for p in previews))
    if any(p["problems"] for p in previews) or args.dry_run or not _confirmed(args):
        print("not pushed; staged as " + ", ".join(s.id for s in staged)
              + " (`forklift push --project NAME --resume` sends it)")
        return 0 if args.dry_run else 1
    for item in staged:
        done = publish.push(hub, paths, item)
        print(f"pushed {done.kind} → {done.repo_id} at {done.commit_oid[:10]}\n  {done.commit_url}")
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    from forklift_core.hub.pull import pull_adapter, pull_dataset

    workspace = Workspace.default(args.workspace)
    if bool(args.dataset) == bool(args.model):
        raise BadInputError("pull one thing: --dataset REPO (into a new project) or --model REPO (an adapter)")
    hub = _hub(args)
    if args.dataset:
        result = pull_dataset(hub, workspace, args.project, args.dataset, args.revision)
        print(f"{result['project']}: {result['pairs']} pairs and {result['facts']} facts from {args.dataset} at "
              f"{result['commit'][:10]}; curate them in the Curate tab")
    else:
        run_id = pull_adapter(hub, workspace, args.project, args.model, args.revision)
        print(f"{args.project}: run {run_id} holds the adapter from {args.model}; "
              f"`forklift ask --project {args.project} --run {run_id} ...` or the Compare tab")
    return 0


def _cmd_secrets(args: argparse.Namespace) -> int:
    import getpass

    from forklift_core.curate.store import CurationStore

    paths = Workspace.default(args.workspace).project(args.project)
    store = CurationStore(paths.curation_db)
    open_hits = store.unreviewed_secret_hits()
    for hit in open_hits:
        print(f"{hit['path']}:{hit['line']}  {hit['kind']}  (fingerprint {hit['fingerprint']}, value redacted)")
    if args.reviewed:
        count = store.review_secret_hits(getpass.getuser())
        print(f"{count} finding(s) marked reviewed; their values stay redacted in every pair")
    elif not open_hits:
        print("no unreviewed secret-scan findings")
    return 0


def _cmd_deploy(args: argparse.Namespace) -> int:
    from forklift_core.hub.deploy import deploy, stage_space
    from forklift_core.hub import publish
    from forklift_core.workspace import ProjectPaths

    outbox = ProjectPaths(Workspace.default(args.workspace).root / ".deploys")  # not a project: never listed
    hub = _hub(args)
    staged = stage_space(outbox, args.space_id, private=not args.public)
    shown = publish.preview(hub, staged)
    print(_render_preview(shown) + f"\nhardware: {args.hardware}")
    if shown["problems"] or args.dry_run or not _confirmed(args):
        print(f"not deployed; staged as {staged.id}")
        return 0 if args.dry_run else 1
    done = deploy(hub, outbox, staged, args.hardware)
    print(f"deployed {done.repo_id} at {done.commit_oid[:10]}: {hub.endpoint}/spaces/{done.repo_id}")
    return 0


def _add_endpoint(command: argparse.ArgumentParser) -> None:
    command.add_argument("--endpoint", help="Hub address (default: $HF_ENDPOINT or https://huggingface.co)")


def add_hub_commands(add: AddCommand) -> None:
    """Register push, pull and secrets on the CLI's parser."""
    push = add("push", _cmd_push, "Push the curated dataset and/or a run's adapter to the Hugging Face Hub (private "
                                  "by default; what goes is shown first).")
    push.add_argument("--project", required=True)
    push.add_argument("--dataset", metavar="REPO", help="dataset repo id (namespace/name)")
    push.add_argument("--run", help="the run whose adapter to push")
    push.add_argument("--model", metavar="REPO", help="model repo id for the adapter")
    visibility = push.add_mutually_exclusive_group()
    visibility.add_argument("--private", action="store_true", default=True, help="new repos are private (default)")
    visibility.add_argument("--public", action="store_true", help="publish: create public repos, push to public ones")
    push.add_argument("--include-unreviewed", action="store_true", help="also push pending (unreviewed) pairs")
    push.add_argument("--dry-run", action="store_true", help="stage and show what would go, push nothing")
    push.add_argument("--yes", action="store_true", help="push without asking (what goes is still printed)")
    push.add_argument("--resume", action="store_true", help="send every staged push that has not gone yet")
    push.add_argument("--list", action="store_true", help="list the project's staged and sent pushes")
    _add_endpoint(push)

    pull = add("pull", _cmd_pull, "Pull a dataset repo into a new project, or an adapter repo into a project's runs.")
    pull.add_argument("--project", required=True)
    pull.add_argument("--dataset", metavar="REPO")
    pull.add_argument("--model", metavar="REPO")
    pull.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    _add_endpoint(pull)

    deploy = add("deploy", _cmd_deploy, "Create or update a Space running ForkLift from this checkout (private "
                                        "unless --public; shown first).")
    deploy.add_argument("space_id", help="namespace/name of the Space")
    deploy.add_argument("--hardware", default="cpu-basic", help="cpu-basic, cpu-upgrade, t4-small, l4x1, a10g-small, …")
    deploy.add_argument("--public", action="store_true", help="a public Space (visitors sign in to change anything)")
    deploy.add_argument("--dry-run", action="store_true", help="stage and show what would go, deploy nothing")
    deploy.add_argument("--yes", action="store_true", help="deploy without asking")
    _add_endpoint(deploy)

    secrets = add("secrets", _cmd_secrets, "List the secret-scan findings not yet reviewed; --reviewed marks them.")
    secrets.add_argument("--project", required=True)
    secrets.add_argument("--reviewed", action="store_true", help="mark every current finding reviewed")
