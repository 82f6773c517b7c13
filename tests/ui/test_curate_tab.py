"""The Curate tab in a real browser: edits persist across reloads and restarts, conflicts are shown, bulk works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from forklift_core.curate.store import CurationStore
from forklift_core.generate.pipeline import generate
from forklift_core.workspace import Workspace
from tests.ui.conftest import SCREENSHOTS, free_port, start_app

TARGET = "ensure_example_project"


@pytest.fixture(scope="module")
def generated(app_url: str, app_workspace: Path) -> Path:
    """Pairs for the example project the app ingested at start-up."""
    generate("forklift-example", Workspace(app_workspace))
    return app_workspace


def _matching(workspace: Path, search: str) -> list[str]:
    """The ids of the pairs the text filter should show (the same LIKE match the store runs)."""
    store = CurationStore(workspace / "forklift-example" / "curation.sqlite")
    return [p["id"] for p in store.pairs() if search.lower() in (p["question"] + p["answer"] + p["rejected"]).lower()]


def open_curate(page: Page, search: str, workspace: Path) -> None:
    page.reload()
    page.get_by_role("tab", name="Curate").click()
    expect(page.locator("#curate-project input")).to_have_value("forklift-example", timeout=30_000)
    # Let the tab's own first load finish, so its page cannot replace the filtered one under the click.
    expect(page.locator("#curate-counts")).to_contain_text("Reviewed", timeout=30_000)
    box = page.locator("#curate-search textarea, #curate-search input").first
    box.fill(search)
    box.press("Enter")
    matching = _matching(workspace, search)
    expect(page.get_by_text(re.compile(rf"page 1 of \d+ · {len(matching)} pairs"))).to_be_visible(timeout=15_000)
    # The text may sit in an answer the table does not show: the rows are known by their ids.
    expect(page.locator("#curate-table")).to_contain_text(re.compile("|".join(matching)), timeout=15_000)


def select_question(page: Page, question: str) -> None:
    page.locator("#curate-table").get_by_role("gridcell", name=question, exact=True).first.click()
    expect(page.locator("#curate-question textarea")).to_have_value(question, timeout=15_000)


def answer_box(page: Page):
    return page.locator("#curate-answer textarea")


def test_edit_accept_survives_reload_and_restart(browser, generated: Path, page: Page) -> None:
    question = f"Where is `{TARGET}` defined?"
    open_curate(page, question, generated)
    select_question(page, question)
    expect(page.locator("#curate-evidence")).to_contain_text("forklift_core/example.py")
    answer_box(page).fill("Edited in the browser: see forklift_core/example.py.")
    page.locator("#curate-accept").click()
    expect(page.locator("#curate-message")).to_contain_text("accepted", timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "curate-tab.png"), full_page=True)
    open_curate(page, question, generated)
    select_question(page, question)
    expect(answer_box(page)).to_have_value("Edited in the browser: see forklift_core/example.py.")
    expect(page.locator("#curate-detail")).to_contain_text("accepted")
    # A second app process on the same workspace (a restart) sees the same saved edit.
    port = free_port()
    proc = start_app(generated, port)
    try:
        other = browser.new_page()
        other.goto(f"http://127.0.0.1:{port}/")
        open_curate(other, question, generated)
        select_question(other, question)
        expect(answer_box(other)).to_have_value("Edited in the browser: see forklift_core/example.py.")
        other.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_second_save_of_the_same_pair_gets_a_conflict(browser, generated: Path, app_url: str) -> None:
    question = f"What is the signature of `{TARGET}` in the source code?"
    first, second = browser.new_page(), browser.new_page()
    for tab in (first, second):
        tab.goto(app_url)
        open_curate(tab, question, generated)
        select_question(tab, question)
    answer_box(first).fill("First reviewer's answer.")
    first.locator("#curate-save").click()
    expect(first.locator("#curate-message")).to_contain_text("Saved", timeout=15_000)
    answer_box(second).fill("Second reviewer's answer.")
    second.locator("#curate-save").click()
    expect(second.locator("#curate-message")).to_contain_text("Conflict", timeout=15_000)
    expect(second.locator("#curate-message")).to_contain_text("First reviewer's answer.")
    store = CurationStore(generated / "forklift-example" / "curation.sqlite")
    answers = {p["answer"] for p in store.pairs() if p["question"] == question}
    assert "First reviewer's answer." in answers and "Second reviewer's answer." not in answers
    first.close()
    second.close()


def test_keyboard_shortcut_rejects(generated: Path, page: Page) -> None:
    question = f"What does `{TARGET}` do?"
    open_curate(page, question, generated)
    select_question(page, question)
    page.locator("#curate-detail").click()  # focus outside the text boxes
    page.keyboard.press("r")
    expect(page.locator("#curate-message")).to_contain_text("rejected", timeout=15_000)


def test_bulk_accept_changes_the_counts(generated: Path, page: Page) -> None:
    open_curate(page, "ctags", generated)  # in many questions, whichever facts the sampling kept
    expect(page.locator("#curate-counts")).to_contain_text("Reviewed 0 /")
    page.get_by_text("Bulk actions on the current filter").click()
    page.locator("#curate-bulk-preview").click()
    expect(page.locator("#curate-bulk-message")).to_contain_text("will change", timeout=15_000)
    page.locator("#curate-bulk-confirm").click()
    expect(page.locator("#curate-bulk-message")).to_contain_text("pairs changed", timeout=30_000)
    store = CurationStore(generated / "forklift-example" / "curation.sqlite")
    matching = [p for p in store.pairs() if "ctags" in (p["question"] + p["answer"] + p["rejected"]).lower()]
    assert matching and all(p["status"] == "accepted" for p in matching)
    expect(page.locator("#curate-counts")).to_contain_text(f"Reviewed {len(matching)} / {len(matching)}",
                                                           timeout=15_000)
