"""Curation benchmark: a store of 20,000 pairs, each interaction against a bare SQLite query (the floor).

Run with `.venv/bin/python bench/curate.py`. Prints milliseconds per interaction (median of repeats), the ratio to
the bare query, and, when Debian's chromium is installed, the browser round-trip of an accept in the real app.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from forklift_core.curate import review
from forklift_core.curate.review import PairFilter
from forklift_core.curate.store import CurationStore
from forklift_core.records import Fact, QAPair, stable_id
from forklift_core.workspace import write_json_atomic

FAMILIES = ("definition_location", "callers", "purpose", "members", "kind_signature")


def build_store(path: Path, pairs: int) -> CurationStore:
    """A store with `pairs` Q&A pairs over pairs/5 facts, spread over families, files and splits."""
    facts, qa = [], []
    for i in range(pairs // 5):
        family = FAMILIES[i % len(FAMILIES)]
        fact = Fact(stable_id("fact", i), family, f"symbol_{i}", "", f"pkg{i % 40}/module_{i % 400}.py", i % 900 + 1,
                    i % 900 + 5, f"def symbol_{i}():\n    return {i}\n", {"label": f"symbol_{i}"})
        facts.append(fact)
        for phrasing in range(5):
            split = ("train", "train", "train", "validation", "test")[phrasing]
            qa.append(QAPair(stable_id("sft", i, phrasing), fact.id, family, f"t.{phrasing}",
                             f"Question {phrasing} about `symbol_{i}`?", f"`symbol_{i}` is in `{fact.path}` line "
                             f"{fact.line}.", f"`{fact.path}:{fact.line}`", split))
    store = CurationStore(path)
    store.replace_generated(facts, qa, [], {"project": "bench"})
    return store


def timed(work: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of `repeats` runs."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def store_figures(store: CurationStore, repeats: int) -> None:
    bare = sqlite3.connect(store.path)
    middle = 10_000
    rows, _ = review.page(store, PairFilter(), middle, 25)
    edit_target = {"pair": rows[0]}

    def edit() -> None:
        pair = edit_target["pair"]
        edit_target["pair"] = review.edit_pair(store, pair["id"], {"comment": str(time.time())}, pair["version"], "bench")

    def bare_edit() -> None:
        with bare:
            bare.execute("UPDATE pairs SET comment = ? WHERE id = ?", (str(time.time()), rows[1]["id"]))

    cases = [
        ("load a page (25 rows + total + counts)",
         lambda: (review.page(store, PairFilter(), middle, 25), review.summary_counts(store)),
         lambda: bare.execute("SELECT * FROM pairs LIMIT 25 OFFSET ?", (middle,)).fetchall()),
        ("filter family + status + split",
         lambda: (review.page(store, f := PairFilter(family="callers", status="pending", split="train"), 0, 25),
                  review.summary_counts(store, f)),
         lambda: bare.execute("SELECT * FROM pairs WHERE family = ? AND status = ? AND split = ? LIMIT 25",
                              ("callers", "pending", "train")).fetchall()),
        ("text search",
         lambda: (review.page(store, f := PairFilter(text="symbol_1234"), 0, 25), review.summary_counts(store, f)),
         lambda: bare.execute("SELECT * FROM pairs WHERE question LIKE ? OR answer LIKE ? LIMIT 25",
                              ("%symbol_1234%", "%symbol_1234%")).fetchall()),
        ("save an edit (versioned + logged)", edit, bare_edit),
    ]
    print(f"{'interaction':42} {'ForkLift ms':>12} {'bare ms':>9} {'ratio':>7}")
    for label, ours, floor in cases:
        mine, base = timed(ours, repeats), timed(floor, repeats)
        print(f"{label:42} {mine:12.2f} {base:9.2f} {mine / base:7.1f}")


def ui_round_trip(store_path: Path, repeats: int, pairs: int) -> None:
    """Milliseconds from pressing Accept to the saved message, in Chromium against the real app."""
    if not Path("/usr/bin/chromium").exists():
        print("UI round-trip: skipped (no /usr/bin/chromium)")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        project = workspace / "bench"
        project.mkdir()
        shutil.copyfile(store_path, project / "curation.sqlite")
        write_json_atomic(project / "manifest.json", {"project": "bench", "source": {"kind": "path", "origin": "bench"}})
        port = 7899
        env = {**os.environ, "FORKLIFT_WORKSPACE": str(workspace), "GRADIO_SERVER_PORT": str(port)}
        app = subprocess.Popen([sys.executable, "-c", "from forklift_core.ui import build_app; from forklift_core.ui.app "
                                "import launch; launch(build_app())"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                page = browser.new_page()
                for _ in range(120):
                    try:
                        page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:
                        time.sleep(0.5)
                page.get_by_role("tab", name="Curate").click()
                question = "Question 0 about `symbol_7`?"
                search = page.locator("#curate-search textarea, #curate-search input").first
                search.fill(question)
                search.press("Enter")
                page.locator("#curate-table").get_by_role("gridcell", name=question).first.click(timeout=60_000)
                page.locator("#curate-question textarea").wait_for()
                page.wait_for_function(f"document.querySelector('#curate-question textarea').value === {question!r}")
                samples = []
                for i in range(repeats):
                    page.locator("#curate-comment textarea").fill(f"round trip {i}")
                    started = time.perf_counter()
                    page.locator("#curate-accept").click()
                    page.wait_for_function(f"document.querySelector('#curate-detail').innerText.includes("
                                           f"'version {i + 2}')")
                    samples.append((time.perf_counter() - started) * 1000)
                browser.close()
            print(f"UI round-trip (click Accept -> saved message, {pairs:,}-pair store): median "
                  f"{statistics.median(samples):.0f} ms over {repeats}")
        finally:
            app.terminate()
            app.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "curation.sqlite"
        started = time.perf_counter()
        store = build_store(path, args.pairs)
        print(f"store: {args.pairs} pairs written in {time.perf_counter() - started:.1f} s")
        store_figures(store, args.repeats)
        ui_round_trip(path, 5, args.pairs)


if __name__ == "__main__":
    main()
