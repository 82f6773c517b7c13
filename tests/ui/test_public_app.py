"""Public mode in a real browser: `FORKLIFT_PUBLIC=1` starts as installed, and anonymous visitors only look."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace
from tests.conftest import POLYGLOT
from tests.ui.conftest import SCREENSHOTS, app_workspace_from, free_port, start_app, upload_polyglot_archive


@pytest.fixture(scope="module")
def public_app(tmp_path_factory, example_template):
    workspace = app_workspace_from(example_template, tmp_path_factory.mktemp("public-ws"))
    ingest(str(POLYGLOT), "shared", Workspace(workspace))
    port = free_port()
    proc = start_app(workspace, port, {"FORKLIFT_PUBLIC": "1"})
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=30)


def test_public_app_starts_and_refuses_anonymous_writes(browser, public_app, tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(public_app)
    expect(page.locator("#public-notice")).to_contain_text("Public preview", timeout=30_000)
    expect(page.get_by_label("https git URL")).to_be_visible()
    upload_polyglot_archive(page, tmp_path, "shared")
    expect(page.get_by_text("sign in with Hugging Face to ingest").first).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Generate").click()
    page.locator("#generate-run").click()
    expect(page.get_by_text("sign in with Hugging Face to generate").first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / "public-mode.png"), full_page=True)
    context.close()
