"""`forklift <stage> ...`: every flag maps onto a stage config; errors are one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from forklift_core.errors import ForkliftError, storage_error_message
from forklift_core.hub.commands import add_hub_commands
from forklift_core.progress import Progress
from forklift_core.workspace import Workspace


def _add_progress_flags(command: argparse.ArgumentParser) -> None:
    """--quiet and --progress, shared by every long-running stage."""
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")


def _progress_bar(args: argparse.Namespace) -> tuple[Progress, Callable[[], None]]:
    """A tqdm bar on stderr driven by stage progress (fractions mapped onto 0..100), unless --quiet or piped."""
    if not (not args.quiet and sys.stderr.isatty() or args.progress):
        return Progress(), lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed} {postfix}", leave=False)

    def report(fraction: float, message: str) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(message[:60], refresh=False)
        bar.refresh()

    return Progress(report), bar.close


def _emit(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(data, indent=2, default=str) if as_json else render(data))


def _cmd_ingest(args: argparse.Namespace) -> int:
    from forklift_core.config import IngestConfig
    from forklift_core.ingest.index import ingest, reference_sources

    from forklift_core.ingest.incremental import change_line
    from forklift_core.ingest.workers import without_pandas

    if args.own_process:
        without_pandas()  # the process ends with the ingest: pyarrow's half-second probe for pandas is not needed
    config = IngestConfig(extractor=args.extractor, shards=args.shards, references=not args.no_references,
                          incremental=not args.full, c_references=args.c_references,
                          python_references=args.python_references)
    progress, close = _progress_bar(args)
    try:
        summary = ingest(args.source, args.project, Workspace.default(args.workspace), config, progress)
    finally:
        close()

    def render(s: dict[str, Any]) -> str:
        skipped = ", ".join(f"{k}={v}" for k, v in s["skipped"].items()) or "none"
        kinds = ", ".join(f"{k}={v}" for k, v in list(s["by_kind"].items())[:8])
        return (f"{s['project']}: {s['files']} files, {s['symbols']} symbols ({kinds}), "
                f"{s['references']} references"
                + (f" ({reference_sources(s)})" if reference_sources(s) else "")
                + f", {s['build_facts']} build facts in {s['seconds']}s\n"
                f"skipped: {skipped}\nindex: {s['index']}" + (f"\n{change_line(s)}" if change_line(s) else ""))

    _emit(summary, args.json, render)
    return 0


def _reader(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from forklift_core.ingest.tables import IndexReader

    return IndexReader(Workspace.default(args.workspace).project(args.project))


_SYMBOL_FIELDS = ("name", "kind", "language", "path", "line", "end_line", "scope", "signature")


def _cmd_symbols(args: argparse.Namespace) -> int:
    rows = _reader(args).symbols(name=args.name, path=args.path, kind=args.kind, query=args.search, limit=args.limit)
    records = [{k: row[k] for k in _SYMBOL_FIELDS} for row in rows]
    _emit(records, args.json, lambda rs: "\n".join(
        f"{r['path']}:{r['line']}\t{r['kind']}\t{(r['scope'] + '.') if r['scope'] else ''}{r['name']}{r['signature']}"
        for r in rs) or "no matching symbols")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from forklift_core.evaluate.vectors import symbol_vectors, vectors_file
    from forklift_core.models import Embedder

    reader = _reader(args)
    embedder = Embedder(args.embedder)
    progress, close = _progress_bar(args)
    try:
        matrix = symbol_vectors(reader.paths, reader.symbols(), embedder, progress)
    finally:
        close()
    data = {"symbols": int(matrix.shape[0]), "file": str(vectors_file(reader.paths, embedder.resolved.model_id))}
    _emit(data, args.json, lambda d: f"{d['symbols']} symbol vectors in {d['file']}")
    return 0


def _cmd_refs(args: argparse.Namespace) -> int:
    found = _reader(args).references(args.name)
    keep = ("src_name", "dst_name", "kind", "path", "line")
    data = {"name": args.name, **{side: [{k: e[k] for k in keep} for e in edges] for side, edges in found.items()}}

    def render(d: dict[str, Any]) -> str:
        lines = [f"callers of {d['name']}:"] + [f"  {e['path']}:{e['line']}\t{e['src_name'] or '<file>'} ({e['kind']})"
                                               for e in d["callers"]]
        lines += [f"callees of {d['name']}:"] + [f"  {e['path']}:{e['line']}\t{e['dst_name']} ({e['kind']})"
                                                 for e in d["callees"]]
        return "\n".join(lines)

    _emit(data, args.json, render)
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    import os

    from forklift_core.config import GenerateConfig
    from forklift_core.curate.store import store_line
    from forklift_core.generate.pipeline import generate

    overrides: dict[str, Any] = {"negatives": tuple(n.strip() for n in args.negatives.split(",") if n.strip())}
    if args.teacher:
        overrides.update(teacher_url=args.teacher)
    if args.teacher_model:
        overrides.update(teacher_model=args.teacher_model)
    if args.seed is not None:
        overrides.update(seed=args.seed)
    if args.holdout_by:
        overrides.update(holdout_by=args.holdout_by)
    config = GenerateConfig.from_yaml(Path(args.config).read_text()) if args.config else GenerateConfig()
    config = GenerateConfig.from_dict({**config.to_dict(), **overrides})
    # The teacher key comes from the environment (HF_TOKEN or OPENAI_API_KEY), never from a flag or the workspace.
    key = os.environ.get("FORKLIFT_TEACHER_KEY") or os.environ.get("OPENAI_API_KEY") or os.environ.get("HF_TOKEN")
    progress, close = _progress_bar(args)
    try:
        summary = generate(args.project, Workspace.default(args.workspace), config, progress, key)
    finally:
        close()

    def render(s: dict[str, Any]) -> str:
        splits = ", ".join(f"{k}={v}" for k, v in s["by_split"]["sft"].items())
        negatives = ", ".join(f"{k}={v}" for k, v in s["by_negative_kind"].items()) or "none"
        return (f"{s['project']}: {s['facts']} facts -> {s['sft_pairs']} Q&A pairs ({splits}), "
                f"{s['dpo_pairs']} preference pairs\nnegatives: {negatives}\n"
                f"needs review: {s['needs_review']}, flagged: {s['flagged']}, secrets redacted: {s['secrets_redacted']}\n"
                + store_line(s["store"]))

    _emit(summary, args.json, render)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from forklift_core.curate.export import export_dataset

    statuses = tuple(s.strip() for s in args.status.split(",") if s.strip())
    if args.include_unreviewed:
        statuses = tuple(dict.fromkeys((*statuses, "pending")))
    paths = Workspace.default(args.workspace).project(args.project)
    result = export_dataset(paths, Path(args.out) if args.out else None, args.format, statuses)
    _emit(result, args.json, lambda r: f"exported {r['counts']} to {r['out']} ({r['format']}, hash {r['dataset_hash'][:12]})")
    return 0


def _run_summary(status: Any) -> dict[str, Any]:
    losses = {}
    for record in status.progress:
        for key in ("loss", "eval_loss", "rewards/accuracies"):
            if key in record:
                losses[f"{record['stage']}_{key.replace('/', '_')}"] = record[key]
    return {"run_id": status.run_id, "status": status.status, "run_dir": str(status.run_dir),
            "adapter": str(status.run_dir / "adapter") if (status.run_dir / "adapter").is_dir() else None,
            "final": losses, "wall_seconds": status.manifest.get("wall_seconds")}


def _cmd_train(args: argparse.Namespace) -> int:
    from forklift_core.config import TrainPlan
    from forklift_core.train.launch import LocalLauncher

    plan = TrainPlan.from_yaml(Path(args.plan).read_text()) if args.plan else TrainPlan()
    overrides: dict[str, Any] = {}
    if args.base_model:
        overrides["base_model"] = args.base_model
    if args.method:
        overrides["method"] = args.method
    if args.max_steps is not None:
        overrides.update(sft_max_steps=args.max_steps, dpo_max_steps=args.max_steps)
    if args.include_unreviewed:
        overrides["pairs"] = "accepted+pending"
    plan = TrainPlan.from_dict({**plan.to_dict(), **overrides})
    workspace = Workspace.default(args.workspace)
    if args.backend != "local":
        return _train_remotely(args, workspace, plan)
    launcher = LocalLauncher(workspace, args.project)
    run_id = launcher.start(plan)
    curriculum = launcher.poll(run_id).manifest.get("curriculum")
    if curriculum and not args.json:
        print(f"forklift: run {run_id}: the {plan.time_budget_minutes:g}-minute budget covers {curriculum['summary']}",
              file=sys.stderr)
    progress, close = _progress_bar(args)

    def update(status: Any) -> None:
        steps = [r for r in status.progress if "loss" in r]
        if steps:
            last = steps[-1]
            stage_share = 0.5 if plan.method == "sft+dpo" else 1.0
            done = last["step"] / max(last["max_steps"], 1) * stage_share + (0.5 if last["stage"] == "dpo"
                                                                            and stage_share == 0.5 else 0)
            progress.report(done, f"{last['stage']} step {last['step']}/{last['max_steps']} loss {last['loss']:.3f}")

    try:
        status = launcher.wait(run_id, update)
    except KeyboardInterrupt:
        launcher.cancel(run_id)  # the job saves a checkpoint; `forklift train --resume` is the next step
        status = launcher.wait(run_id)
    finally:
        close()
    summary = _run_summary(status)
    _emit(summary, args.json, lambda s: f"run {s['run_id']}: {s['status']}; adapter: {s['adapter']}; final: {s['final']}")
    if status.manifest.get("error"):
        reason = str(status.manifest["error"]).splitlines()[0]
        print(f"forklift: the job failed: {reason} (its log: {status.run_dir / 'job.log'})", file=sys.stderr)
    return 0 if status.status == "completed" else 1


def _train_remotely(args: argparse.Namespace, workspace: Workspace, plan: Any) -> int:
    """Start the plan on a remote backend, say what it costs and where to watch it, and follow it unless --detach."""
    from forklift_core.config import HubConfig
    from forklift_core.hub.auth import resolve_token
    from forklift_core.hub.client import Hub
    from forklift_core.train.backends import REMOTE_LABELS, Runs
    from forklift_core.train.remote import estimate_cost

    runs_of = Runs(workspace, args.project, lambda: Hub(resolve_token(), HubConfig()))
    launcher = runs_of.remote(args.backend, args.hardware, args.timeout, args.model or "")
    run_id = launcher.start(plan)
    manifest = launcher.poll(run_id).manifest
    print(f"forklift: run {run_id} on {REMOTE_LABELS[args.backend]}: {manifest.get('url', '')}\n"
          f"  {estimate_cost(args.hardware, plan.time_budget_minutes + 5)} (setup included; the timeout "
          f"{args.timeout} caps it)\n  the adapter goes to {manifest['model_repo']}", file=sys.stderr)
    if args.detach:
        return 0
    try:
        status = launcher.wait(run_id, lambda s: print(f"  {s.status}", file=sys.stderr))
    except KeyboardInterrupt:
        launcher.cancel(run_id)
        status = launcher.poll(run_id)
    print(launcher.logs(run_id, tail=20))
    return 0 if status.status == "completed" else 1


def _cmd_runs(args: argparse.Namespace) -> int:
    from forklift_core.config import HubConfig
    from forklift_core.hub.auth import resolve_token
    from forklift_core.hub.client import Hub
    from forklift_core.train.backends import Runs

    workspace = Workspace.default(args.workspace)
    runs_of = Runs(workspace, args.project, lambda: Hub(resolve_token(), HubConfig()))
    statuses = [runs_of.poll(s.run_id) if s.manifest.get("backend", "local") != "local" else s
                for s in runs_of.local.runs()]  # remote runs: where their backend says they stand
    runs = [_run_summary(r) for r in statuses]
    _emit(runs, args.json, lambda rs: "\n".join(f"{r['run_id']}  {r['status']:<10} {r['final']}" for r in rs)
          or "no runs yet")
    return 0


def _chosen_run(workspace: Workspace, project: str, run_id: str | None) -> str:
    from forklift_core.train.launch import LocalLauncher

    launcher = LocalLauncher(workspace, project)
    return launcher.run_dir(run_id).name if run_id else launcher.latest_completed()


def _cmd_eval(args: argparse.Namespace) -> int:
    from forklift_core.config import EvalConfig
    from forklift_core.evaluate.pipeline import evaluate_run
    from forklift_core.evaluate.report import overall_row

    workspace = Workspace.default(args.workspace)
    run_id = _chosen_run(workspace, args.project, args.run)
    overrides = {"limit": args.limit} if args.limit is not None else {}
    if args.no_context:
        overrides["with_context"] = False
    if args.no_guard:
        overrides["path_guard"] = False
    if args.kind:
        overrides["test_kinds"] = (args.kind,)
    config = EvalConfig.from_dict({**EvalConfig().to_dict(), **overrides})
    progress, close = _progress_bar(args)
    try:
        report = evaluate_run(workspace, args.project, run_id, config, progress)
    finally:
        close()
    summary = {"run_id": run_id, "items": report["item_count"], "overall": report["overall"],
               "by_test_kind": {kind: overall_row(report, kind) for kind in ("unseen_phrasing", "held_out_fact")},
               "retention": report["retention"]["mean_similarity"],
               "report": str(workspace.project(args.project).runs_dir / run_id / "eval" / "report.md")}

    def render(s: dict[str, Any]) -> str:
        lines = [f"run {s['run_id']}: {s['items']} test items"]
        for system, values in s["overall"].items():
            lines.append(f"  {system:<15} " + "  ".join(f"{k}={v:.3f}" for k, v in values.items() if k != "n"))
        if s["retention"] is not None:
            lines.append(f"  retention similarity (tuned vs base on general prompts): {s['retention']:.3f}")
        lines.append(f"report: {s['report']}")
        return "\n".join(lines)

    _emit(summary, args.json, render)
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from forklift_core.config import EvalConfig
    from forklift_core.evaluate.pipeline import Evaluation

    workspace = Workspace.default(args.workspace)
    run_id = _chosen_run(workspace, args.project, args.run)
    questions = _questions(args)
    evaluation = Evaluation(workspace, args.project, run_id, EvalConfig())
    progress, close = _progress_bar(args)
    try:
        results = evaluation.ask_many(questions, guard=not args.no_guard, grounded=args.grounded, progress=progress)
    finally:
        close()
    for result in results:
        result["run_id"] = run_id

    def render_one(r: dict[str, Any]) -> str:
        lines = [f"Q: {r['question']}"] if len(results) > 1 else []
        for system, scored in r["answers"].items():
            figures = [f"{k}={scored[k]:.2f}" for k in ("similarity", "chrf") if k in scored]
            if "correct" in scored:
                figures.append("states the fact" if scored["correct"] else "does NOT state the fact")
            if scored["unknown_names"]:
                figures.append("not in the index: " + ", ".join(scored["unknown_names"]))
            lines += [f"[{system}] {scored['text']}", f"    {'; '.join(figures) or 'no reference for this question'}"]
        lines.append(f"base vs tuned similarity: {r['mutual_similarity']:.2f}")
        return "\n".join(lines)

    _emit(results[0] if len(results) == 1 and not args.questions else results, args.json,
          lambda r: "\n\n".join(map(render_one, r if isinstance(r, list) else [r])))
    return 0


def _questions(args: argparse.Namespace) -> list[str]:
    """The question on the command line, or one per line of --questions FILE ('-' reads standard input)."""
    from forklift_core.errors import BadInputError

    if args.questions:
        try:
            text = sys.stdin.read() if args.questions == "-" else Path(args.questions).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInputError(f"cannot read the questions file: {exc.strerror}") from exc
        questions = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if not questions:
            raise BadInputError("the questions file holds no question (one per line; '#' starts a comment)")
        return questions
    if not args.question:
        raise BadInputError("give a question, or --questions FILE with one question per line")
    return [args.question]


def _cmd_projects(args: argparse.Namespace) -> int:
    names = Workspace.default(args.workspace).projects()
    _emit(names, args.json, lambda ns: "\n".join(ns) or "no projects yet")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every stage."""
    parser = argparse.ArgumentParser(prog="forklift", description="Teach a language model one codebase.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help, description=help)
        cmd.add_argument("--workspace", help="workspace folder (default: $FORKLIFT_WORKSPACE or ./workspace)")
        cmd.add_argument("--json", action="store_true", help="print JSON on stdout")
        cmd.set_defaults(handler=handler)
        return cmd

    ingest = add("ingest", _cmd_ingest, "Index a repository: a path, an https git URL or a .zip/.tar archive.")
    ingest.add_argument("source")
    ingest.add_argument("--project", required=True)
    ingest.add_argument("--extractor", default="auto", choices=["auto", "ctags", "tree-sitter"])
    ingest.add_argument("--shards", type=int, default=0, help="parallel shards (0: one per core)")
    ingest.add_argument("--no-references", action="store_true", help="skip who-calls-what edges")
    ingest.add_argument("--c-references", default="auto", choices=["auto", "lexical", "cscope", "tree-sitter"],
                        help="where C call and type-use edges come from (auto: the native lexical scan when built, "
                             "else cscope when installed)")
    ingest.add_argument("--python-references", default="lexical", choices=["lexical", "tree-sitter"],
                        help="where Python call edges come from (lexical: a scan for names before '(' outside "
                             "comments and strings)")
    ingest.add_argument("--full", action="store_true", help="read every file again, even those whose content is "
                                                         "unchanged since the last ingest")
    _add_progress_flags(ingest)

    symbols = add("symbols", _cmd_symbols, "List symbols of an ingested project.")
    symbols.add_argument("--project", required=True)
    symbols.add_argument("--name", help="exact symbol name")
    symbols.add_argument("--path", help="a file, or a folder prefix")
    symbols.add_argument("--kind", help="function, method, class, struct, ...")
    symbols.add_argument("--search", help="case-insensitive substring of name or path")
    symbols.add_argument("--limit", type=int)

    embed = add("embed", _cmd_embed, "Embed a project's symbols once for grounded answers (only new or changed "
                                     "symbols after a re-ingest); ask, eval and Compare otherwise do it on first use.")
    embed.add_argument("--project", required=True)
    embed.add_argument("--embedder", default=None, help="embedding model (default: the embedded MiniLM)")
    _add_progress_flags(embed)

    refs = add("refs", _cmd_refs, "Callers and callees of a symbol.")
    refs.add_argument("--project", required=True)
    refs.add_argument("--name", required=True)

    gen = add("generate", _cmd_generate, "Write grounded Q&A and preference pairs from a project's index.")
    gen.add_argument("--project", required=True)
    gen.add_argument("--config", help="a GenerateConfig YAML file")
    gen.add_argument("--negatives", default="hard", help="comma list of hard, onpolicy")
    gen.add_argument("--teacher", help="OpenAI-compatible base URL of a teacher model (…/v1)")
    gen.add_argument("--teacher-model", help="teacher model name (or Hub id for Inference Providers)")
    gen.add_argument("--seed", type=int)
    gen.add_argument("--holdout-by", choices=["file", "directory", "row"])
    _add_progress_flags(gen)

    export = add("export", _cmd_export, "Export the curated pairs as a dataset in TRL's formats, with a card.")
    export.add_argument("--project", required=True)
    export.add_argument("--out", help="output folder (default: the project's dataset/)")
    export.add_argument("--format", default="hf", choices=["hf", "jsonl", "parquet", "alpaca"])
    export.add_argument("--status", default="accepted", help="comma list of pair statuses to export")
    export.add_argument("--include-unreviewed", action="store_true", help="also export pending (unreviewed) pairs")

    train = add("train", _cmd_train, "Train a LoRA adapter on the curated pairs (SFT, then DPO) in its own process.")
    train.add_argument("--project", required=True)
    train.add_argument("--plan", help="a TrainPlan YAML file")
    train.add_argument("--base-model", help="Hub id, local folder or 'smollm2' (the embedded default)")
    train.add_argument("--method", choices=["sft", "dpo", "sft+dpo"])
    train.add_argument("--max-steps", type=int, help="steps per stage")
    train.add_argument("--include-unreviewed", action="store_true", help="train on pending pairs too")
    train.add_argument("--backend", default="local", choices=["local", "hf-jobs", "space", "autotrain"],
                       help="where the job runs: this machine, Hugging Face Jobs, a private GPU Space, or AutoTrain "
                            "(the remote ones need a write token)")
    train.add_argument("--hardware", default="t4-small", help="remote hardware flavor (t4-small, l4x1, a10g-small, …)")
    train.add_argument("--timeout", default="2h", help="remote: the run is stopped after this long (e.g. 90m, 2h)")
    train.add_argument("--model", metavar="REPO", help="remote: model repo the adapter is pushed to "
                                                       "(default: NAMESPACE/PROJECT-RUN, private)")
    train.add_argument("--detach", action="store_true", help="remote: start the run and return")
    _add_progress_flags(train)

    runs = add("runs", _cmd_runs, "List a project's training runs with status and figures.")
    runs.add_argument("--project", required=True)

    evaluate = add("eval", _cmd_eval, "Score a run's base and tuned answers on the test split; write the report.")
    evaluate.add_argument("--project", required=True)
    evaluate.add_argument("--run", help="run id (default: the newest completed run)")
    evaluate.add_argument("--limit", type=int, help="test items at most (0: all)")
    evaluate.add_argument("--no-context", action="store_true", help="skip the with-retrieved-evidence baseline")
    evaluate.add_argument("--no-guard", action="store_true", help="skip the path-guarded tuned answers (tuned+guard)")
    evaluate.add_argument("--kind", choices=("unseen_phrasing", "held_out_fact"),
                          help="evaluate one test kind only (default: both)")
    _add_progress_flags(evaluate)

    ask = add("ask", _cmd_ask, "Ask base and tuned (and guarded, grounded) the same questions; scored when they are "
                            "dataset questions.")
    ask.add_argument("--project", required=True)
    ask.add_argument("--run", help="run id (default: the newest completed run)")
    ask.add_argument("question", nargs="?", help="the question (or use --questions)")
    ask.add_argument("--questions", metavar="FILE", help="one question per line ('-' for standard input), "
                                                         "answered in batches")
    ask.add_argument("--grounded", action="store_true",
                     help="also answer with evidence retrieved from the index in the prompt (tuned+context)")
    ask.add_argument("--no-guard", action="store_true",
                     help="leave out the path-guarded answer (tuned+guard: backticked paths held to the index)")
    _add_progress_flags(ask)

    add("projects", _cmd_projects, "List ingested projects.")
    add_hub_commands(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `forklift` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.own_process = argv is None  # run as the `forklift` command, not called from a program that goes on
    try:
        return args.handler(args)
    except ForkliftError as exc:
        print(f"forklift: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly, and keep Python's exit-time flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"forklift: error: {storage_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forklift: interrupted", file=sys.stderr)
        return 130
