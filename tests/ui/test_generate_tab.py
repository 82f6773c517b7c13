"""The Generate tab in a real browser: generate from the example project, see counts, export."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import SCREENSHOTS


def test_generate_and_export_from_the_ui(page) -> None:
    page.get_by_role("tab", name="Generate").click()
    expect(page.locator("#generate-project input")).to_have_value("forklift-example", timeout=30_000)
    page.locator("#generate-run").click()
    summary = page.locator("#generate-summary")
    expect(summary).to_contain_text("Q&A pairs", timeout=120_000)
    expect(summary).to_contain_text("definition_location")
    expect(summary).to_contain_text("line_shift")
    expect(summary).to_contain_text("pairs written")  # what this generation changed in the store
    expect(page.locator("#generate-sample")).to_contain_text("build_test", timeout=15_000)
    expect(page.locator("#generate-sample")).to_contain_text("pending")
    page.locator("#export-unreviewed input").check()
    page.locator("#generate-export").click()
    expect(page.locator("#generate-exported")).to_contain_text("Exported to", timeout=60_000)
    expect(page.locator("#generate-exported")).to_contain_text("dataset")
    page.screenshot(path=str(SCREENSHOTS / "generate-tab.png"), full_page=True)
