"""Pushing datasets and adapters to the Hub and pulling them back, through the real huggingface_hub client."""

from __future__ import annotations

import json
import socket

import pytest
import yaml

from forklift_core.config import HubConfig
from forklift_core.curate.store import CurationStore
from forklift_core.errors import AccessDeniedError, BadInputError, NotFoundError
from forklift_core.hub import publish
from forklift_core.hub.auth import HubToken, redact, resolve_token
from forklift_core.hub.client import Hub, HubUnavailableError
from forklift_core.hub.pull import pull_adapter, pull_dataset
from forklift_core.hub.staging import PUSHED, STAGED, pushes
from tests.hub.conftest import READ_TOKEN, TOKEN


def _card(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def test_a_dataset_push_shows_what_goes_then_lands_private_with_its_card_and_pulls_back(
        project, hub, fake_hub) -> None:
    workspace, name = project
    paths = workspace.project(name)
    staged = publish.stage_dataset(paths, "ada/poly-pairs", statuses=("pending", "accepted"))
    shown = publish.preview(hub, staged)
    assert not shown["repo_exists"] and shown["repo_private"] and not shown["problems"]
    assert {"README.md", "sft/train.parquet", "dpo/train.parquet", "forklift/pairs.jsonl"} <= set(shown["files"])
    assert {f["change"] for f in shown["files"].values()} == {"new"}

    done = publish.push(hub, paths, staged)
    assert done.status == PUSHED and pushes(paths, STAGED) == []
    repo = fake_hub.repos[("dataset", "ada/poly-pairs")]
    assert repo.private and done.commit_oid == repo.head()["oid"]
    # The exact requests huggingface_hub sent: create (private), preupload, then one ndjson commit.
    create = json.loads(fake_hub.calls("POST", "/api/repos/create")[0]["body"])
    assert create == {"name": "poly-pairs", "organization": "ada", "visibility": "private", "type": "dataset"}
    commit = fake_hub.calls("POST", "/api/datasets/ada/poly-pairs/commit/main")[0]
    lines = [json.loads(line) for line in commit["body"].splitlines()]
    assert lines[0]["key"] == "header" and lines[0]["value"]["parentCommit"] == repo.commits[0]["oid"]
    assert {line["value"]["path"] for line in lines[1:]} == set(staged.files)
    assert commit["headers"]["Content-Type"] == "application/x-ndjson" and all(r["authorized"]
                                                                            for r in fake_hub.requests)
    card = _card(fake_hub.files("dataset", "ada/poly-pairs")["README.md"].decode())
    counts = card["forklift"]["counts"]
    assert {c["config_name"] for c in card["configs"]} == {"sft", "dpo"} and counts["sft"]["train"] > 0
    assert card["forklift"]["dataset_hash"] and card["forklift"]["source"]

    # Pulled into a new project, the pairs come back with their review state and facts.
    result = pull_dataset(hub, workspace, "poly-copy", "ada/poly-pairs")
    original = CurationStore(paths.curation_db).pairs(statuses=("pending", "accepted"))
    copied = CurationStore(workspace.project("poly-copy").curation_db).pairs()
    assert result["pairs"] == len(original) == len(copied)
    assert [(p["id"], p["status"], p["answer"]) for p in copied] == [(p["id"], p["status"], p["answer"])
                                                                     for p in original]
    fact = CurationStore(workspace.project("poly-copy").curation_db).fact(copied[0]["fact_id"])
    assert fact["evidence"] and "poly-copy" in workspace.projects()
    with pytest.raises(BadInputError, match="already has pairs"):
        pull_dataset(hub, workspace, "poly-copy", "ada/poly-pairs")


def test_pushes_are_refused_while_secret_findings_are_unreviewed_or_an_edit_holds_a_secret(project, hub) -> None:
    workspace, name = project
    paths = workspace.project(name)
    store = CurationStore(paths.curation_db)
    with store.connect() as db:
        db.execute("INSERT INTO secret_hits VALUES ('AWS Access Key', 'src/config.py', 3, 'abc123def456')")
    with pytest.raises(BadInputError, match="1 secret-scan finding.*src/config.py:3"):
        publish.stage_dataset(paths, "ada/poly-pairs", statuses=("pending",))
    with pytest.raises(BadInputError, match="not reviewed"):
        publish.stage_adapter(paths, "run-1", "ada/poly-lora")
    assert pushes(paths) == []  # nothing half-staged is left behind
    assert store.review_secret_hits("ada") == 1 and store.unreviewed_secret_hits() == []
    pair = store.pairs(kind="sft")[0]
    with store.connect() as db:  # a person's edit pasted a key into an answer
        db.execute("UPDATE pairs SET answer = ?, version = 2 WHERE id = ?",
                   ("Use AKIAIOSFODNN7EXAMPLE with secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", pair["id"]))
    with pytest.raises(BadInputError, match=f"pair {pair['id']}"):
        publish.stage_dataset(paths, "ada/poly-pairs", statuses=("pending",))


def test_an_adapter_push_has_the_peft_layout_and_a_model_card_and_pulls_into_another_workspace(
        project, hub, fake_hub, tmp_path) -> None:
    workspace, name = project
    paths = workspace.project(name)
    staged = publish.stage_adapter(paths, "run-1", "ada/poly-lora", dataset_repo="ada/poly-pairs")
    publish.preview(hub, staged)
    publish.push(hub, paths, staged)
    files = fake_hub.files("model", "ada/poly-lora")
    assert {"adapter_config.json", "adapter_model.safetensors", "plan.yaml", "manifest.json", "README.md"} <= set(files)
    assert files["adapter_model.safetensors"] == (paths.runs_dir / "run-1/adapter/adapter_model.safetensors").read_bytes()
    # The weights went by LFS: batch, then PUT, then the commit names the object.
    batch = json.loads(fake_hub.calls("POST", "/ada/poly-lora.git/info/lfs/objects/batch")[0]["body"])
    assert batch["operation"] == "upload" and batch["objects"][0]["size"] == len(files["adapter_model.safetensors"])
    assert len(fake_hub.calls("PUT", "/lfs-upload/")) == 1
    card = _card(files["README.md"].decode())
    assert card["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and card["library_name"] == "peft"
    assert card["datasets"] == ["ada/poly-pairs"] and "forklift" in card["tags"]
    plan, manifest = yaml.safe_load(files["plan.yaml"]), json.loads(files["manifest.json"])
    assert "base_model_path" not in plan and "pid" not in manifest  # where files live here is nobody's business
    assert "base_model_path" not in manifest["plan"]

    from forklift_core.ingest.index import ingest
    from forklift_core.workspace import Workspace
    from tests.conftest import POLYGLOT

    fresh = Workspace(tmp_path / "fresh")
    with pytest.raises(NotFoundError, match="ingest"):
        pull_adapter(hub, fresh, "poly", "ada/poly-lora")
    ingest(str(POLYGLOT), "poly", fresh)
    run_id = pull_adapter(hub, fresh, "poly", "ada/poly-lora")
    run_dir = fresh.project("poly").runs_dir / run_id
    assert (run_dir / "adapter/adapter_model.safetensors").read_bytes() == files["adapter_model.safetensors"]
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "completed"
    assert pull_adapter(hub, fresh, "poly", "ada/poly-lora") == run_id  # the same revision is not pulled twice

    from forklift_core.evaluate.answering import BASE, TUNED, answer_all, load_run_models

    models = load_run_models(run_dir)  # the Compare tab's loader: base from the embedded default, adapter on top
    question = ["Where is `Queue` defined?"]
    assert answer_all(models, BASE, question, 1, 12) != answer_all(models, TUNED, question, 1, 12)


def test_failures_say_what_happened_keep_the_staged_push_and_a_retry_finishes_it(project, hub, fake_hub,
                                                                                  monkeypatch) -> None:
    from huggingface_hub.utils import _http

    monkeypatch.setattr(_http.time, "sleep", lambda seconds: None)  # huggingface_hub's own retries, without waiting
    workspace, name = project
    paths = workspace.project(name)
    staged = publish.stage_adapter(paths, "run-1", "ada/poly-lora")

    fake_hub.fail("PUT", r"/lfs-upload/", drop=True, times=10)  # the connection drops mid-upload, every retry
    with pytest.raises(HubUnavailableError, match="cannot be reached|failed"):
        publish.push(hub, paths, staged)
    fake_hub.failures.clear()
    fake_hub.fail("POST", r"/commit/", 429, {"Retry-After": "7"})
    with pytest.raises(HubUnavailableError, match="retry after 7 s"):
        publish.push(hub, paths, staged)
    fake_hub.fail("POST", r"/commit/", 503)
    with pytest.raises(HubUnavailableError, match="503"):
        publish.push(hub, paths, staged)
    assert len(fake_hub.lfs) == 1  # the weights went once; the retries after that did not send them again
    assert pushes(paths, STAGED)[0].id == staged.id and len(pushes(paths, STAGED)[0].attempts) == 3
    fake_hub.failures.clear()
    done = publish.push(hub, paths, pushes(paths, STAGED)[0])  # as after a restart: the staged push from disk
    assert done.status == PUSHED and fake_hub.files("model", "ada/poly-lora")["adapter_config.json"]

    read_only = Hub(HubToken(READ_TOKEN, "HF_TOKEN"), hub.config)
    again = publish.stage_adapter(paths, "run-1", "ada/poly-lora")
    with pytest.raises(AccessDeniedError, match="may not .*write access") as denied:
        publish.push(read_only, paths, again)
    invalid = Hub(HubToken("hf_NotAValidTokenAtAll000", "HF_TOKEN"), hub.config)
    with pytest.raises(AccessDeniedError, match="invalid or expired") as refused:
        publish.push(invalid, paths, again)
    assert READ_TOKEN not in str(denied.value) and "hf_NotAValid" not in str(refused.value)
    with pytest.raises(NotFoundError, match="no such repository"):
        pull_adapter(hub, workspace, name, "ada/nothing-here")

    # Someone commits after the preview: the push refuses to overwrite their work.
    publish.preview(hub, again)
    other = publish.stage_adapter(paths, "run-1", "ada/poly-lora")
    (other.files_dir / "README.md").write_text("---\nlicense: mit\n---\nmine\n")
    publish.push(hub, paths, publish.seal(other))
    with pytest.raises(BadInputError, match="changed on the Hub since the preview"):
        publish.push(hub, paths, again)

    with socket.socket() as probe:  # a port nobody listens on: the Hub is unreachable
        probe.bind(("127.0.0.1", 0))
        nowhere = Hub(hub.token, HubConfig(endpoint=f"http://127.0.0.1:{probe.getsockname()[1]}"))
    with pytest.raises(HubUnavailableError, match="cannot be reached"):
        publish.preview(nowhere, publish.stage_adapter(paths, "run-1", "ada/poly-lora"))


def test_a_public_repo_is_never_written_by_a_private_push(project, hub, fake_hub) -> None:
    workspace, name = project
    paths = workspace.project(name)
    publish.push(hub, paths, publish.stage_adapter(paths, "run-1", "ada/open-lora", private=False))
    assert not fake_hub.repos[("model", "ada/open-lora")].private
    staged = publish.stage_adapter(paths, "run-1", "ada/open-lora")
    assert "PUBLIC" in publish.preview(hub, staged)["problems"][0]
    with pytest.raises(BadInputError, match="PUBLIC"):
        publish.push(hub, paths, staged)


def test_tokens_come_from_the_signed_in_user_on_a_space_and_are_never_shown(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(AccessDeniedError, match="sign in"):
        resolve_token(None, on_space=True)  # the Space owner's HF_TOKEN is not the visitor's
    assert resolve_token("hf_visitor0123456789", on_space=True).source == "sign-in"
    local = resolve_token()
    assert local.value == TOKEN and local.source == "HF_TOKEN" and TOKEN not in repr(local)
    assert redact(f"failed with {TOKEN} and hf_Other0123456789x") == "failed with hf_*** and hf_***"


def test_no_file_written_during_pushes_and_pulls_holds_the_token(project, hub, fake_hub, tmp_path) -> None:
    workspace, name = project
    paths = workspace.project(name)
    publish.push(hub, paths, publish.stage_dataset(paths, "ada/poly-pairs", statuses=("pending",)))
    publish.push(hub, paths, publish.stage_adapter(paths, "run-1", "ada/poly-lora"))
    pull_dataset(hub, workspace, "copy", "ada/poly-pairs")
    pull_adapter(hub, workspace, name, "ada/poly-lora")
    written = [p for p in workspace.root.rglob("*") if p.is_file()]
    assert len(written) > 20 and not [p for p in written if TOKEN.encode() in p.read_bytes()]
    pushed = [data for repo in fake_hub.repos.values() for c in repo.commits for data in c["files"].values()]
    assert not [d for d in pushed if TOKEN.encode() in d]
    assert not [r for r in fake_hub.requests if TOKEN.encode() in r["body"] or TOKEN in json.dumps(r["headers"])]


def test_the_cli_shows_then_pushes_resumes_and_pulls(project, fake_hub, monkeypatch, capsys) -> None:
    from forklift_core.cli import main

    workspace, name = project
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    common = ["--workspace", str(workspace.root), "--project", name, "--endpoint", fake_hub.url]
    assert main(["push", *common, "--dataset", "ada/cli-pairs", "--include-unreviewed", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert "creates the repository (private)" in shown and "sft/train.parquet" in shown and "not pushed" in shown
    assert fake_hub.repos == {}
    assert main(["push", *common, "--dataset", "ada/cli-pairs", "--include-unreviewed"]) == 2  # no prompt, no --yes
    assert "add --yes" in capsys.readouterr().err
    assert main(["push", *common, "--resume"]) == 0  # the staged pushes from before go now
    assert "pushed dataset" in capsys.readouterr().out and ("dataset", "ada/cli-pairs") in fake_hub.repos
    assert main(["push", *common, "--run", "run-1", "--model", "ada/cli-lora", "--yes"]) == 0
    assert "pushed adapter → ada/cli-lora" in capsys.readouterr().out
    assert main(["pull", "--workspace", str(workspace.root), "--project", "cli-copy", "--dataset", "ada/cli-pairs",
                 "--endpoint", fake_hub.url]) == 0
    assert "pairs and" in capsys.readouterr().out and "cli-copy" in workspace.projects()
    assert main(["secrets", "--workspace", str(workspace.root), "--project", name]) == 0
    assert "no unreviewed" in capsys.readouterr().out


def test_deploy_makes_a_gradio_space_with_oauth_and_on_a_gpu_points_at_a_larger_base(project, fake_hub, monkeypatch,
                                                                                      capsys) -> None:
    from forklift_core.cli import main

    workspace, _ = project
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert main(["deploy", "ada/forklift", "--workspace", str(workspace.root), "--endpoint", fake_hub.url,
                 "--hardware", "t4-small", "--yes"]) == 0
    assert "deployed ada/forklift" in capsys.readouterr().out
    space = fake_hub.repos[("space", "ada/forklift")]
    files = fake_hub.files("space", "ada/forklift")
    create = json.loads(fake_hub.calls("POST", "/api/repos/create")[0]["body"])
    assert create["type"] == "space" and create["sdk"] == "gradio" and space.private
    front = _card(files["README.md"].decode())
    assert front["sdk"] == "gradio" and front["app_file"] == "app.py" and front["hf_oauth"] is True
    assert "contribute-repos" in front["hf_oauth_scopes"] and b"universal-ctags" in files["packages.txt"]
    assert "forklift_core/hub/deploy.py" in files and "app.py" in files and "requirements.txt" in files
    assert not [p for p in files if p.startswith(("tests/", "bench/", "workspace/"))]
    # The native helpers' source goes; the module built here, for this machine, does not.
    assert "forklift_core/ingest/_native.c" in files and not [p for p in files if p.endswith(".so")]
    assert space.hardware == "t4-small" and space.variables["FORKLIFT_BASE_MODEL"].startswith("Qwen/")
    assert ".deploys" not in workspace.projects()


def test_pulling_a_repo_that_is_not_a_forklift_dataset_imports_nothing(project, hub, fake_hub) -> None:
    from huggingface_hub import HfApi

    workspace, _ = project
    api = HfApi(endpoint=fake_hub.url)
    api.create_repo("ada/odd", repo_type="dataset", token=TOKEN)
    for content, expected in ((b'{"id": "x"}\n', "not hold a valid ForkLift dataset"),
                              (b"not json\n", "not JSON lines"), (b"[1, 2]\n", "other than records")):
        api.upload_file(path_or_fileobj=content, path_in_repo="forklift/pairs.jsonl", repo_id="ada/odd",
                        repo_type="dataset", token=TOKEN)
        with pytest.raises(BadInputError, match=expected):
            pull_dataset(hub, workspace, "odd", "ada/odd")
        assert CurationStore(workspace.project("odd").curation_db).pairs() == []
    with pytest.raises(BadInputError, match="not a ForkLift dataset"):
        api.create_repo("ada/empty", repo_type="dataset", token=TOKEN)
        pull_dataset(hub, workspace, "empty", "ada/empty")
