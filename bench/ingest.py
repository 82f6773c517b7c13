"""Ingest benchmark: ForkLift's ingest against bare Universal Ctags on the same tree, in one run.

Run with `make bench` or `.venv/bin/python bench/ingest.py [--tree python|kernel|PATH ...]`. Trees: `python` is
the installed transformers package (a large Python tree), `kernel` about 18,800 files of Linux 6.1 from Debian's
linux-source package (fetched into bench/.cache once). For each tree it prints bare `ctags -R` with the fields
ForkLift asks for (one process), with ctags' default fields (the command the scale issue timed) and with the
tab-separated output ForkLift asks for (what ctags itself costs ForkLift), ForkLift's full ingest as
`forklift ingest` runs it, without the interpreter's start (one shard per core, and one shard), the unchanged
re-ingest and a re-ingest after one file changed, each as a ratio to both, with peak RSS. Nothing is asserted: the
figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import NoSampling, PeakRss  # noqa: E402
from repos import add_function, kernel_tree, linked_copy  # noqa: E402

from forklift_core.ingest.ctags import CTAGS_FIELDS, output_options  # noqa: E402

# One process per measured ingest (a fair start, and memory no earlier run left behind). The ingest runs as the
# `forklift ingest` command runs it (its main() with the command line); the interpreter's start and the imports are
# left out of the time. Its peak memory (this process, and it with its workers) is sampled only in a run of its own:
# the sampler's reads of /proc took CPU from a 2-core ingest (0.5 s of a kernel tree's 13.5-14 s).
_CHILD = r"""
import io, json, sys, time
from contextlib import redirect_stdout
from forklift_core.cli import main
import forklift_core.ingest.index, forklift_core.ingest.incremental  # the command's imports, made before the clock
source, workspace, shards, sampled = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5] == "sampled"
sys.path.insert(0, sys.argv[4])
from memory import NoSampling, PeakRss
sys.argv = ["forklift", "ingest", source, "--project", "bench", "--workspace", workspace, "--shards", shards,
            "--json", "--quiet"]
printed = io.StringIO()
with (PeakRss() if sampled else NoSampling()) as peak, redirect_stdout(printed):
    started = time.perf_counter()
    status = main()
    seconds = time.perf_counter() - started
if status != 0:
    raise SystemExit(f"forklift ingest exited with {status}")
summary = json.loads(printed.getvalue())
print(json.dumps({"wall": seconds, "symbols": summary["symbols"], "references": summary["references"],
                  "stages": summary["stage_seconds"], **peak.mib()}))
"""


def python_tree() -> Path:
    """The installed transformers package: a large real Python tree nobody here wrote."""
    import transformers

    return Path(transformers.__file__).parent


def bare_ctags(tree: Path, same_fields: bool = True, tsv: bool = False,
               sampled: bool = False) -> tuple[float, int, float]:
    """(seconds, tags, peak RSS MiB) of one recursive ctags process with JSON output (or with `tsv`, the
    tab-separated lines ForkLift asks for): with the fields and kinds ForkLift asks for, or (`same_fields` False)
    ctags' defaults, the command the scale issue measured. Its memory only when `sampled` (else 0), as the
    ingest's."""
    options = [f"--fields={CTAGS_FIELDS}", "--extras=-p", "--kinds-C=+p", "--kinds-C++=+p"] if same_fields else []
    started = time.perf_counter()
    with subprocess.Popen(["ctags", "-R", *output_options(tsv), *options, "-f", "-", "."], cwd=tree,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        output = proc.stdout
        assert output is not None
        # Its memory with its `sort`'s, sampled: the children's maximum would hold an earlier ingest's, and a
        # child's own maximum this process's, whose address space it began in.
        with PeakRss(0.05, pid=proc.pid) if sampled else NoSampling() as peak:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: output.read(1 << 20), b""))
            proc.wait()
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"bare ctags failed with exit code {proc.returncode}")
    return seconds, lines, peak.mib()["total_mib"]  # with the `sort` it may run


def forklift_ingest(tree: Path, shards: int, touch: str = "", sampled: bool = False) -> dict:
    """The first ingest (and, with `touch`, the unchanged and one-file-changed re-ingests), each in a fresh process,
    on a hard-linked copy of the tree (the one changed file is replaced there, never edited in place); their peak
    memory only when `sampled`."""
    bench_dir = str(Path(__file__).resolve().parent)

    def one(scratch: Path) -> dict:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(scratch / "tree"), str(scratch / "ws"), str(shards),
                              bench_dir, "sampled" if sampled else "timed"], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"the measured ingest failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    with linked_copy(tree) as scratch:
        runs = {"first": one(scratch)}
        if touch:
            runs["unchanged"] = one(scratch)
            add_function(scratch / "tree" / touch)
            runs["one_changed"] = one(scratch)
    return runs


def measure(label: str, tree: Path, touch: str, repeat: int) -> None:
    cores = os.cpu_count() or 1
    files = sum(1 for p in tree.rglob("*") if p.is_file())
    print(f"\n## {label}: {tree} ({files} files), {cores} cores")
    # The repeats take turns (every baseline, then every ingest, then again): a machine that speeds up or slows
    # down during the run moves both sides of a ratio alike.
    rounds: dict[str, list] = {"same": [], "plain": [], "tsv": [], "sharded": [], "one": []}
    for _ in range(repeat):
        rounds["same"].append(bare_ctags(tree))
        rounds["plain"].append(bare_ctags(tree, same_fields=False))
        rounds["tsv"].append(bare_ctags(tree, tsv=True))
        rounds["sharded"].append(forklift_ingest(tree, cores, touch))
        rounds["one"].append(forklift_ingest(tree, 1, ""))
    # Memory from one more run of each, sampled (the timed runs above are not).
    ctags_rss = bare_ctags(tree, sampled=True)[2]
    memory = {"sharded": forklift_ingest(tree, cores, touch, sampled=True),
              "one": forklift_ingest(tree, 1, "", sampled=True)}
    ctags_seconds, tags, _ = min(rounds["same"])
    print(f"bare ctags (one process, same fields): {ctags_seconds:.2f} s, {tags} tags, peak RSS {ctags_rss:.0f} MiB")
    plain_seconds, plain_tags, _ = min(rounds["plain"])
    print(f"bare `ctags -R --output-format=json` (default fields, as the issue ran it): {plain_seconds:.2f} s, "
          f"{plain_tags} tags")
    tsv_seconds, tsv_tags, _ = min(rounds["tsv"])
    print(f"bare ctags, same fields as the tab-separated lines ForkLift reads: {tsv_seconds:.2f} s, {tsv_tags} lines")
    print("peak memory MiB: ForkLift's own process (RSS) / it and its workers together (PSS), sampled every 0.2 s in "
          "one more run of each (the timed runs are not sampled)")
    print(f"{'run':34} {'wall s':>7} {'x ctags':>8} {'x plain':>8} {'x tsv':>8} {'x first':>8} {'symbols':>8} "
          f"{'refs':>8} {'memory':>11}  stages")
    for name, kind, reingest in ((f"ingest, {cores} shards", "sharded", True), ("ingest, 1 shard", "one", False)):
        best = min(rounds[kind], key=lambda r: r["first"]["wall"])
        labels = {"first": name}
        if reingest and touch:  # a folder given by path has no file to change
            labels.update(unchanged="  re-ingest, nothing changed", one_changed="  re-ingest, one file changed")
        for key, text in labels.items():
            run, peak = best[key], memory[kind][key]
            stages = " ".join(f"{k}={v:.1f}" for k, v in run["stages"].items())
            print(f"{text:34} {run['wall']:7.1f} {run['wall'] / ctags_seconds:8.2f} {run['wall'] / plain_seconds:8.2f} "
                  f"{run['wall'] / tsv_seconds:8.2f} {run['wall'] / best['first']['wall']:8.2f} {run['symbols']:8d} "
                  f"{run['references']:8d} "
                  f"{peak['own_mib']:5.0f}/{peak['total_mib']:5.0f}  {stages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", help="python, kernel or a folder (default: python and kernel)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    args = parser.parse_args()
    for choice in args.tree or ["python", "kernel"]:
        if choice == "python":
            measure("large Python tree (transformers)", python_tree(), "utils/__init__.py", args.repeat)
        elif choice == "kernel":
            measure("kernel-sized C tree (Linux 6.1 subset)", kernel_tree(), "kernel/fork.c", args.repeat)
        else:
            measure(choice, Path(choice), "", args.repeat)


if __name__ == "__main__":
    main()
