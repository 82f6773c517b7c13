"""The Compare tab in a real browser: ask both models, see two answers and scores, the report, a blind A/B verdict."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from forklift_core.config import EvalConfig
from forklift_core.curate.store import CurationStore
from forklift_core.evaluate.items import load_test_rows
from forklift_core.evaluate.pipeline import evaluate_run
from forklift_core.workspace import Workspace
from tests.conftest import POLY, copy_project
from tests.ui.conftest import SCREENSHOTS, choose

PROJECT = POLY  # the small fixture: evaluation embeds its index in seconds (the example's took a minute)


def test_ask_compare_and_judge(page: Page, app_url: str, app_workspace: Path, trained_polyglot: Path) -> None:
    workspace = Workspace(app_workspace)
    run_id = copy_project(trained_polyglot, workspace, PROJECT)  # ingested, generated and trained once per run
    evaluate_run(workspace, PROJECT, run_id, EvalConfig(limit=6, max_new_tokens=8, retention=False))
    question = load_test_rows(workspace.project(PROJECT).runs_dir / run_id / "dataset")[0]["messages"][0]["content"]

    page.reload()
    page.get_by_role("tab", name="Compare").click()
    # The tab's first load picks the first project and shows its report: choosing before that lands gets undone.
    expect(page.locator("#compare-report")).to_contain_text(
        re.compile("No completed run yet|Not evaluated yet|test items"), timeout=30_000)
    choose(page, "compare-project", PROJECT)
    expect(page.locator("#compare-run input")).to_have_value(run_id, timeout=30_000)
    expect(page.locator("#compare-report")).to_contain_text("6 test items", timeout=30_000)
    page.locator("#compare-question textarea").fill(question)
    page.locator("#compare-ask").click()
    for box in ("#compare-base", "#compare-tuned"):
        expect(page.locator(f"{box} textarea")).not_to_have_value("", timeout=120_000)
    for scores in ("#compare-base-scores", "#compare-tuned-scores"):
        expect(page.locator(scores)).to_contain_text("similarity to the reference", timeout=60_000)
    expect(page.locator("#compare-mutual")).to_contain_text("Base vs tuned similarity")
    page.screenshot(path=str(SCREENSHOTS / "compare-tab.png"), full_page=True)

    page.locator("#ab-new").click()
    expect(page.locator("#ab-verdict")).to_contain_text("Which answer is better?", timeout=120_000)
    answer_a = page.locator("#ab-a textarea").input_value()
    page.locator("#ab-pick-a").click()
    expect(page.locator("#ab-verdict")).to_contain_text("winner", timeout=30_000)
    expect(page.locator("#ab-verdict")).to_contain_text("Added DPO pair")
    judged = [p for p in CurationStore(workspace.project(PROJECT).curation_db).pairs(kind="dpo")
              if p["negative_kind"] == "human_ab" and p["question"] == question]
    assert judged and judged[0]["answer"] == answer_a and judged[0]["status"] == "accepted"
