"""The Hub tab in a real browser against the fake Hub: stage, see what goes, push, pull back."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from forklift_core.workspace import Workspace
from tests.conftest import copy_project
from tests.hub.conftest import TOKEN
from tests.hub.fake_hub import FakeHub
from tests.ui.conftest import SCREENSHOTS, app_workspace_from, choose, free_port, start_app


@pytest.fixture
def hub_app(tmp_path: Path, example_template: Path, generated_polyglot: Path, adapter_run_template: Path):
    """A fake Hub, a workspace with a generated project and a completed run, and the app pointed at both."""
    fake = FakeHub()
    fake.add_token(TOKEN, "ada")
    fake.start()
    workspace = Workspace(app_workspace_from(example_template, tmp_path / "ws"))
    copy_project(generated_polyglot, workspace)
    shutil.copytree(adapter_run_template, workspace.project("poly").runs_dir / "run-1")
    port = free_port()
    proc = start_app(workspace.root, port, {"HF_ENDPOINT": fake.url, "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_XET": "1",
                                            "FORKLIFT_REMOTE_POLL_S": "2"})  # a local fake: no rate limit to keep to
    yield fake, workspace, f"http://127.0.0.1:{port}/", proc
    proc.terminate()
    proc.wait(timeout=30)
    fake.stop()
    print(proc.stderr.read().decode(errors="replace")[-4000:])  # shown when the test failed: the app's own account


def open_hub_tab(url: str, browser) -> Page:
    """A new page on the Hub tab with project `poly` and its run-1 chosen."""
    page: Page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    choose_poly_in_hub_tab(page)
    choose(page, "hub-run", "run-1")  # the run list arrives after the project's pick lands
    return page


def choose_poly_in_hub_tab(page: Page) -> None:
    """Open the Hub tab and choose project `poly` once the tab's first load has landed (choosing earlier is undone)."""
    page.get_by_role("tab", name="Hub").click()
    expect(page.locator("#hub-waiting")).to_contain_text("No staged pushes waiting", timeout=60_000)
    choose(page, "hub-project", "poly")


def test_stage_preview_push_and_pull_in_the_hub_tab(hub_app, browser) -> None:
    fake, workspace, url, _ = hub_app
    page = open_hub_tab(url, browser)
    expect(page.locator("#hub-secrets")).to_contain_text("No unreviewed secret-scan findings", timeout=30_000)
    page.locator("#hub-dataset-repo textarea, #hub-dataset-repo input").first.fill("ada/poly-pairs")
    page.locator("#hub-model-repo textarea, #hub-model-repo input").first.fill("ada/poly-lora")
    page.get_by_label("Include unreviewed pairs").check()
    page.locator("#hub-push").click()  # nothing goes before it was shown
    expect(page.locator("body")).to_contain_text("every push is shown before it goes", timeout=30_000)
    page.locator("#hub-stage").click()
    preview = page.locator("#hub-preview")
    expect(preview).to_contain_text("creates the repository, private", timeout=60_000)
    expect(preview).to_contain_text("sft/train.parquet")
    expect(preview).to_contain_text("adapter_model.safetensors")
    assert fake.repos == {}  # a preview reads the Hub, it writes nothing
    page.screenshot(path=str(SCREENSHOTS / "hub-tab-preview.png"), full_page=True)
    page.locator("#hub-push").click()
    expect(preview).to_contain_text("pushed adapter to ada/poly-lora", timeout=60_000)
    expect(preview).to_contain_text("pushed dataset to ada/poly-pairs")
    assert fake.repos[("dataset", "ada/poly-pairs")].private and fake.repos[("model", "ada/poly-lora")].private
    expect(page.locator("#hub-waiting")).to_contain_text("No staged pushes waiting")

    page.get_by_text("Pull from the Hub").click()
    page.locator("#hub-pull-repo textarea, #hub-pull-repo input").first.fill("ada/poly-pairs")
    page.get_by_label("dataset into a new project").check()
    page.locator("#hub-pull-project textarea, #hub-pull-project input").first.fill("poly-copy")
    page.locator("#hub-pull").click()
    expect(page.locator("#hub-pulled")).to_contain_text("are in project poly-copy", timeout=60_000)
    assert "poly-copy" in workspace.projects()
    page.screenshot(path=str(SCREENSHOTS / "hub-tab.png"), full_page=True)


def test_an_app_killed_mid_push_finishes_the_push_after_a_restart(hub_app, browser) -> None:
    fake, workspace, url, app = hub_app
    page = open_hub_tab(url, browser)
    page.locator("#hub-model-repo textarea, #hub-model-repo input").first.fill("ada/poly-lora")
    page.locator("#hub-stage").click()
    expect(page.locator("#hub-preview")).to_contain_text("adapter_model.safetensors", timeout=60_000)
    fake.fail("PUT", "^/lfs-upload/", stall=600, drop=True)  # the weights upload hangs; the app dies during it
    page.locator("#hub-push").click()
    while not fake.calls("PUT", "/lfs-upload/"):
        page.wait_for_timeout(200)
    app.kill()  # SIGKILL: no handler runs, as when the machine or the Space restarts
    app.wait()
    assert "adapter_model.safetensors" not in fake.files("model", "ada/poly-lora")  # no half commit
    fake.failures.clear()

    port = free_port()
    restarted = start_app(workspace.root, port, {"HF_ENDPOINT": fake.url, "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_XET": "1"})
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        choose_poly_in_hub_tab(page)
        expect(page.locator("#hub-waiting")).to_contain_text("ada/poly-lora", timeout=30_000)
        expect(page.locator("#hub-waiting")).to_contain_text("last try: started")  # the killed attempt
        page.locator("#hub-resume").click()
        expect(page.locator("#hub-preview")).to_contain_text("pushed adapter to ada/poly-lora", timeout=60_000)
        expect(page.locator("#hub-waiting")).to_contain_text("No staged pushes waiting")
        pushed = fake.files("model", "ada/poly-lora")
        local = workspace.project("poly").runs_dir / "run-1" / "adapter" / "adapter_model.safetensors"
        assert pushed["adapter_model.safetensors"] == local.read_bytes()
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)


def test_a_run_on_hf_jobs_from_the_train_tab_reaches_completed_and_one_is_cancelled(hub_app, browser,
                                                                                     tiny_llama_dir, tmp_path,
                                                                                     monkeypatch) -> None:
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the fake Hub speaks LFS, not xet

    fake, workspace, url, _ = hub_app
    api = HfApi(endpoint=fake.url)  # the base model on the (fake) Hub, where the remote job loads it from
    api.create_repo("ada/tiny-llama", token=TOKEN)
    api.upload_folder(repo_id="ada/tiny-llama", folder_path=str(tiny_llama_dir), token=TOKEN)
    page: Page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    # The tab's first load picks the first project and describes its plan; choosing before it lands gets undone.
    expect(page.locator("#train-command")).to_contain_text("covers", timeout=120_000)
    choose(page, "train-project", "poly")
    page.locator("#train-base-model textarea, #train-base-model input").first.fill("ada/tiny-llama")
    page.get_by_label("sft", exact=True).check()
    steps = page.locator("#train-max-steps input")
    steps.fill("3")
    steps.press("Tab")
    page.get_by_label("Hugging Face Jobs").check()
    expect(page.locator("#train-remote-cost")).to_contain_text("t4-small", timeout=30_000)
    expect(page.locator("#train-remote-cost")).to_contain_text("$")
    expect(page.locator("#train-remote-cost")).to_contain_text("--backend hf-jobs --hardware t4-small --timeout 2h")
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text("running", timeout=120_000)
    assert len(fake.jobs) == 1 and next(iter(fake.jobs.values()))["spec"]["flavor"] == "t4-small"
    job_id = next(iter(fake.jobs))
    assert fake.run_job_locally(job_id, sys.executable, {"HF_HOME": str(tmp_path / "hf-home"),
                                                         "HF_HUB_DISABLE_XET": "1"}) == 0
    expect(status).to_contain_text("completed", timeout=90_000)  # the tab asks HF Jobs every 2 s here (15 s live)
    expect(page.locator("#train-plot")).to_contain_text("step", timeout=30_000)  # the job's curves came back
    page.get_by_text("Logs", exact=True).click()
    expect(page.locator("#train-logs textarea")).to_have_value(re.compile("results pushed to"), timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "train-tab-hf-jobs.png"), full_page=True)

    # The second run goes to a private GPU Space; cancelling it pauses the Space (its GPU stops billing).
    page.get_by_label("a GPU Space").check()
    expect(page.locator("#train-remote-cost")).to_contain_text("--backend space --hardware t4-small")
    page.locator("#train-start").click()
    expect(status).to_contain_text("running", timeout=120_000)
    spaces = [repo for (kind, _), repo in fake.repos.items() if kind == "space"]
    assert len(spaces) == 1 and spaces[0].hardware == "t4-small" and spaces[0].private
    page.locator("#train-cancel").click()
    expect(status).to_contain_text("cancelled", timeout=60_000)
    assert [j["status"]["stage"] for j in fake.jobs.values()] == ["COMPLETED"] and spaces[0].stage == "PAUSED"
