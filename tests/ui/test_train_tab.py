"""The Train tab in a real browser: start a small run, watch its status and curves, see it complete."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from forklift_core.generate.pipeline import generate
from forklift_core.workspace import Workspace
from tests.ui.conftest import SCREENSHOTS


def test_start_a_run_and_watch_it_complete(page: Page, app_url: str, app_workspace: Path, tiny_llama_dir: Path) -> None:
    generate("forklift-example", Workspace(app_workspace))  # keeps any reviewer edits from other tests
    page.reload()
    page.get_by_role("tab", name="Train").click()
    expect(page.locator("#train-command")).to_contain_text("forklift train --project forklift-example", timeout=30_000)
    expect(page.locator("#train-command")).to_contain_text("budget")  # the default: epochs within a time budget
    # Before launch, the Train tab says what that budget covers (the curriculum the run would train on).
    expect(page.locator("#train-command")).to_contain_text(re.compile(r"covers \d[\d,]* facts × 3 phrasings × 3 "
                                                                      r"passes.*facts left out"), timeout=60_000)
    page.locator("#train-base-model textarea, #train-base-model input").first.fill(str(tiny_llama_dir))
    page.get_by_label("sft", exact=True).check()
    steps = page.locator("#train-max-steps input")
    steps.fill("3")
    steps.press("Tab")
    expect(page.locator("#train-command")).to_contain_text("min for", timeout=30_000)  # an estimate for fixed steps
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text("running", timeout=60_000)
    expect(status).to_contain_text("completed", timeout=300_000)
    expect(status).to_contain_text("none dropped")  # rows kept and dropped as too long are shown
    plot = page.locator("#train-plot")
    expect(plot).to_contain_text(re.compile(r"step.*\d+\.\d+"), timeout=30_000)  # axis and plotted loss values
    page.screenshot(path=str(SCREENSHOTS / "train-tab.png"), full_page=True)
