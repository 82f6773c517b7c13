"""The Ingest tab in a real browser: the example project is there at once, search, select, ingest, errors."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import POLYGLOT
from tests.ui.conftest import SCREENSHOTS, choose, upload_polyglot_archive


def test_example_project_is_browsable_at_once(page) -> None:
    expect(page.locator("#ingest-summary")).to_contain_text("forklift-example", timeout=30_000)
    expect(page.locator("#ingest-summary")).to_contain_text("symbols")
    table = page.locator("#symbol-table")
    expect(table.get_by_role("gridcell").first).to_be_visible()
    page.locator("#symbol-search textarea, #symbol-search input").first.fill("ensure_example_project")
    page.locator("#symbol-search textarea, #symbol-search input").first.press("Enter")
    expect(table).to_contain_text("forklift_core/example.py", timeout=15_000)
    table.get_by_role("gridcell", name="ensure_example_project", exact=True).first.click()
    expect(page.locator("#symbol-detail")).to_contain_text("ensure_example_project", timeout=15_000)
    expect(page.locator("#symbol-detail")).to_contain_text("forklift_core/example.py")
    expect(page.locator("#symbol-snippet")).to_contain_text("def ensure_example_project")
    page.screenshot(path=str(SCREENSHOTS / "ingest-tab.png"), full_page=True)


def test_ingest_a_path_from_the_ui(page) -> None:
    page.get_by_label("Project name").fill("poly-ui")
    page.get_by_label("Local path or https git URL").fill(str(POLYGLOT))
    page.get_by_role("button", name="Ingest").click()
    summary = page.locator("#ingest-summary")
    expect(summary).to_contain_text("poly-ui", timeout=60_000)
    expect(summary).to_contain_text("15 files")
    expect(page.locator("#symbol-table")).to_contain_text("stack_push", timeout=15_000)
    # The next step needs no reload: the Generate tab offers the new project, the chosen one stays chosen.
    page.get_by_role("tab", name="Generate").click()
    chooser = page.locator("#generate-project input")
    expect(chooser).to_have_value("forklift-example", timeout=15_000)
    choose(page, "generate-project", "poly-ui")


def test_bad_input_shows_a_clear_error(page) -> None:
    page.get_by_label("Project name").fill("bad")
    page.get_by_label("Local path or https git URL").fill("https://127.0.0.1/evil.git")
    page.get_by_role("button", name="Ingest").click()
    expect(page.get_by_text("private or local address").first).to_be_visible(timeout=30_000)


def test_upload_an_archive(page, tmp_path) -> None:
    upload_polyglot_archive(page, tmp_path, "uploaded")
    summary = page.locator("#ingest-summary")
    expect(summary).to_contain_text("uploaded", timeout=60_000)
    expect(summary).to_contain_text("15 files")
    expect(summary).to_contain_text("polyglot.tar.gz")
