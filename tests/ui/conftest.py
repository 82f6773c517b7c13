"""A real app on a free localhost port and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Screenshots a person can look at after a run (ignored by git).
SCREENSHOTS = Path(os.environ.get("FORKLIFT_SCREENSHOTS", "/tmp/forklift-screenshots"))
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def choose(page: Page, field: str, option: str, timeout_s: float = 60.0) -> None:
    """Pick `option` in the dropdown #field, opening it again until the option is offered (choices can arrive late)."""
    box = page.locator(f"#{field} input")
    deadline = time.monotonic() + timeout_s
    while True:
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=2_000)
            break
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")  # closes the stale list; the next click opens the current one
    expect(box).to_have_value(option, timeout=15_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(workspace: Path, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `python app.py` as a user would, and wait until it answers."""
    env = {**os.environ, "FORKLIFT_WORKSPACE": str(workspace), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("app did not start in time")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def app_workspace_from(template: Path, folder: Path) -> Path:
    """A copy of the example workspace for one app: its start re-ingests nothing and generates nothing."""
    shutil.copytree(template, folder, dirs_exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def app_workspace(tmp_path_factory: pytest.TempPathFactory, example_template: Path) -> Path:
    """The workspace folder the session's app serves."""
    return app_workspace_from(example_template, tmp_path_factory.mktemp("ui-ws"))


@pytest.fixture(scope="session")
def app_url(app_workspace: Path, smollm2_dir: Path) -> Iterator[str]:
    """The session's app, started once the embedded model is converted (its Train tab resolves that model)."""
    port = free_port()
    proc = start_app(app_workspace, port)
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    yield page
    context.close()


def upload_polyglot_archive(page, tmp_path: Path, project: str) -> None:
    """Pack the polyglot fixture, upload it in the Ingest tab under a project name and press Ingest."""
    import tarfile

    from playwright.sync_api import expect

    from tests.conftest import POLYGLOT

    archive = tmp_path / "polyglot.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(POLYGLOT, arcname="polyglot")
    page.get_by_label("Project name").fill(project)
    page.locator("#archive-upload input[type=file]").set_input_files(str(archive))
    # The name shows once the upload finished; Gradio may render its stem and extension apart ("polyglot.tar .gz").
    expect(page.locator("#archive-upload")).to_contain_text("polyglot.tar", timeout=60_000)
    page.get_by_role("button", name="Ingest").click()
