"""Training in its own process: translators, a full SFT+DPO run, cancel and resume, divergence, re-attach."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from forklift_core.config import TrainPlan
from forklift_core.train.launch import LocalLauncher
from forklift_core.train.recipe import job_module
from tests.conftest import copy_project


@pytest.fixture
def project(workspace, generated_polyglot):
    copy_project(generated_polyglot, workspace)  # ingested and generated once per run
    return workspace


def _plan(model: Path, **overrides) -> TrainPlan:
    settings = dict(base_model=str(model), method="sft+dpo", sft_max_steps=4, dpo_max_steps=2, batch_size=4,
                    gradient_accumulation=1, eval_steps=2,
                    save_steps=2, max_length=192, pairs="accepted+pending")
    return TrainPlan(**{**settings, **overrides})


def test_translators() -> None:
    job = job_module()
    plan = TrainPlan(sft_max_steps=7, dpo_beta=0.2).to_dict()
    lora = job.lora_config(plan)
    assert (lora.r, lora.lora_alpha, lora.lora_dropout, lora.target_modules) == (16, 32, 0.05, "all-linear")
    assert job.quantization_config(plan, cuda=False) is None
    assert job.quantization_config({**plan, "quantization": "none"}, cuda=True) is None
    sft = job.sft_config(plan, Path("/tmp/out/sft"), has_eval=True)
    assert sft.completion_only_loss is True and sft.max_steps == 7 and sft.eval_strategy == "steps"
    assert sft.max_length == 0 and sft.seed == 13 and sft.train_sampling_strategy == "group_by_length"
    assert sft.activation_checkpointing is False and sft.include_num_input_tokens_seen == "non_padding"
    dpo = job.dpo_config(plan, Path("/tmp/out/dpo"), has_eval=False)
    assert dpo.beta == 0.2 and dpo.eval_strategy == "no"
    # Half the rows per step, twice the accumulation: the effective batch stays the plan's.
    assert (dpo.per_device_train_batch_size, dpo.gradient_accumulation_steps) == (2, 4)


def test_max_length_comes_from_the_data_and_long_rows_are_dropped_and_counted(tiny_llama_dir) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    job = job_module()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    rows = Dataset.from_list([{"prompt": [{"role": "user", "content": "Where is `f` defined?"}],
                               "completion": [{"role": "assistant", "content": "In `a.py` at line 3. " * n}]}
                              for n in (1, 2, 40)])
    lengths = job.token_lengths(rows, tokenizer, ("prompt", "completion"))
    assert lengths[0] < lengths[1] < lengths[2] and lengths[0] > 10  # real token counts, not a dict's keys
    plan = TrainPlan().to_dict()
    fitted = job.fit_rows(plan, rows, tokenizer, ("prompt", "completion"))
    assert fitted.plan["max_length"] == -(-lengths[2] // 8) * 8 and fitted.dropped == 0 and len(fitted.rows) == 3
    fitted = job.fit_rows({**plan, "max_length": lengths[1]}, rows, tokenizer, ("prompt", "completion"))
    assert fitted.dropped == 1 and len(fitted.rows) == 2 and fitted.plan["max_length"] == lengths[1]
    with pytest.raises(ValueError, match="longer than max_length"):
        job.fit_rows({**plan, "max_length": 4}, rows, tokenizer, ("prompt", "completion"))


def test_a_fixed_number_of_steps_measures_only_the_rows_it_reaches(tiny_llama_dir) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    job = job_module()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    rows = Dataset.from_list([{"messages": [{"role": "user", "content": f"Where is `f{i}` defined?"},
                                            {"role": "assistant", "content": "In `a.py` at line 3. " * (1 + i % 7)}]}
                              for i in range(2000)])
    plan = {**TrainPlan().to_dict(), "max_length": 0}
    fitted = job.fit_rows(plan, rows, tokenizer, ("messages",), needed=12, seed=5)
    assert len(fitted.rows) == 12 and fitted.checked < len(rows) // 4  # not every row was tokenized
    # The rows are the seed's draw, and max_length is sized to them, not to the whole set.
    assert fitted.rows["messages"] == rows.shuffle(seed=5).select(range(12))["messages"]
    assert fitted.plan["max_length"] == job.auto_max_length(job.token_lengths(fitted.rows, tokenizer, ("messages",)))
    # A max_length that drops most rows: the draw goes on until enough fit, and counts what it dropped.
    short = job.token_lengths(rows.select(range(7)), tokenizer, ("messages",))[1]
    fitted = job.fit_rows({**plan, "max_length": short}, rows, tokenizer, ("messages",), needed=40, seed=5)
    assert len(fitted.rows) == 40 and fitted.dropped > 0 and fitted.checked >= fitted.dropped + 40
    assert max(job.token_lengths(fitted.rows, tokenizer, ("messages",))) <= short
    everything = job.fit_rows(plan, rows, tokenizer, ("messages",), needed=len(rows), seed=5)
    assert everything.checked == len(rows) and len(everything.rows) == len(rows)


def test_mean_tokens_on_arrow_columns_equal_the_row_by_row_count() -> None:
    from datasets import Dataset

    from forklift_core.train.estimate import dataset_mean_tokens, mean_tokens

    rows = [{"prompt": [{"role": "user", "content": f"Où est `f{i}` défini ?"}],
             "chosen": [{"role": "assistant", "content": "Dans `a.py`. " * i}],
             "rejected": [{"role": "assistant", "content": "ünknown"}]} for i in range(50)]
    dataset = Dataset.from_list(rows).select(range(3, 40))  # a selection: the indices mapping is honoured
    fields = ("prompt", "chosen", "rejected")
    assert dataset_mean_tokens(dataset, fields) == pytest.approx(mean_tokens(rows[3:40], fields))
    assert dataset_mean_tokens(dataset, ("chosen",)) < dataset_mean_tokens(dataset, fields)
    assert dataset_mean_tokens(dataset.select([]), fields) == 0.0


def test_training_uses_every_core_unless_omp_num_threads_says_otherwise(monkeypatch) -> None:
    import os

    job = job_module()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert job.training_threads() == 1
    for unset_or_nested in ("", "4,2"):
        monkeypatch.setenv("OMP_NUM_THREADS", unset_or_nested)
        assert job.training_threads() == (os.cpu_count() or 1)


def test_epochs_are_capped_to_the_time_budget() -> None:
    from forklift_core.train.estimate import DatasetStats, fit_to_budget

    stats = DatasetStats(sft_rows=10_000, sft_tokens=100, dpo_rows=9_000, dpo_tokens=130)
    plan = TrainPlan(time_budget_minutes=10, method="sft+dpo")
    fitted = fit_to_budget(plan, stats, parameters=135_000_000)
    assert 0 < fitted.sft_max_steps < 10_000 / 4 and 0 < fitted.dpo_max_steps < fitted.sft_max_steps
    longer = fit_to_budget(TrainPlan(time_budget_minutes=20, method="sft+dpo"), stats, parameters=135_000_000)
    assert longer.sft_max_steps > fitted.sft_max_steps
    assert fit_to_budget(TrainPlan(time_budget_minutes=0), stats, 135_000_000) == TrainPlan(time_budget_minutes=0)
    fixed = fit_to_budget(TrainPlan(sft_max_steps=5, time_budget_minutes=10, method="sft+dpo"), stats, 135_000_000)
    assert fixed.sft_max_steps == 5 and fixed.dpo_max_steps > fitted.dpo_max_steps  # the rest goes to DPO
    small = DatasetStats(sft_rows=40, sft_tokens=100, dpo_rows=40, dpo_tokens=100)
    assert fit_to_budget(plan, small, 135_000_000) == plan  # a whole epoch fits: nothing capped


def test_plan_round_trips_and_validates() -> None:
    from forklift_core.errors import BadInputError

    plan = TrainPlan(method="sft", lora_r=8, target_modules=("q_proj", "v_proj"))
    assert TrainPlan.from_yaml(plan.to_yaml()) == plan
    with pytest.raises(BadInputError):
        TrainPlan(method="ppo")


def test_full_sft_then_dpo_run(project, tiny_llama_dir) -> None:
    launcher = LocalLauncher(project, "poly")
    run_id = launcher.start(_plan(tiny_llama_dir))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "completed", launcher.logs(run_id)
    assert (status.run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert (status.run_dir / "adapter" / "adapter_config.json").is_file()
    stages = {(r["stage"], r["step"]) for r in status.progress if "loss" in r}
    assert ("sft", 4) in stages and ("dpo", 2) in stages
    assert any("eval_loss" in r for r in status.progress if r["stage"] == "sft")
    assert any("rewards/accuracies" in r for r in status.progress if r["stage"] == "dpo")
    manifest = status.manifest
    assert manifest["adapter_sha256"] and manifest["seed"] == 13 and manifest["versions"]["trl"]
    assert manifest["sft_dropped_too_long"] >= 0 and manifest["wall_seconds"] > 0
    assert manifest["sft_train_rows"] > 0 and manifest["sft_max_length"] > 0
    # Only the rows the fixed steps can reach are tokenized: 4 SFT and 2 DPO steps of batch × accumulation rows.
    per_step = manifest["plan"]["batch_size"] * manifest["plan"]["gradient_accumulation"]
    assert (manifest["sft_rows_used"], manifest["dpo_rows_used"]) == (4 * per_step, 2 * per_step)
    assert manifest["sft_train_rows"] > 4 * per_step and manifest["dpo_train_rows"] > 2 * per_step
    assert manifest["sft_rows_checked"] < manifest["sft_train_rows"]
    for stage in ("sft", "dpo"):  # TensorBoard events per stage under tb/
        assert list((status.run_dir / "tb" / stage).glob("events.out.tfevents.*")), stage
    assert any(r.get("tokens_per_s") for r in status.progress)


def test_cancel_then_resume_reaches_the_planned_steps(project, tiny_llama_dir) -> None:
    launcher = LocalLauncher(project, "poly")
    run_id = launcher.start(_plan(tiny_llama_dir, method="sft", sft_max_steps=16, save_steps=3, eval_steps=100))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        steps = [r["step"] for r in launcher.poll(run_id).progress if "loss" in r]
        if steps and max(steps) >= 4:
            break
        time.sleep(0.2)
    launcher.cancel(run_id)
    stopped = launcher.wait(run_id, interval=0.5)
    assert stopped.status == "cancelled", launcher.logs(run_id)
    assert list((stopped.run_dir / "sft").glob("checkpoint-*"))
    launcher.launch(run_id)  # resume from the last checkpoint
    done = launcher.wait(run_id, interval=0.5)
    assert done.status == "completed", launcher.logs(run_id)
    steps = [r["step"] for r in done.progress if "loss" in r]
    assert max(steps) == 16 and (done.run_dir / "adapter" / "adapter_config.json").is_file()


def test_non_finite_loss_stops_with_diverged(project, tiny_llama_dir) -> None:
    launcher = LocalLauncher(project, "poly")
    run_id = launcher.start(_plan(tiny_llama_dir, method="sft", sft_max_steps=20, learning_rate=1e30,
                                  max_grad_norm=1e30, eval_steps=100))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "diverged", launcher.logs(run_id)
    assert not (status.run_dir / "adapter").exists()


def test_a_new_launcher_reattaches_to_earlier_runs(project, tiny_llama_dir) -> None:
    first = LocalLauncher(project, "poly")
    run_id = first.start(_plan(tiny_llama_dir, method="sft", sft_max_steps=2))
    again = LocalLauncher(project, "poly")  # as after an app restart
    assert [r.run_id for r in again.runs()] == [run_id]
    assert again.wait(run_id, interval=0.5).status == "completed"


def test_cli_train_and_runs(project, tiny_llama_dir) -> None:
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "forklift_core", "train", "--project", "poly", "--base-model", str(tiny_llama_dir),
               "--method", "sft", "--max-steps", "2", "--include-unreviewed", "--json", "--workspace", str(project.root)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed" and Path(summary["adapter"], "adapter_config.json").is_file()
    assert "sft_loss" in summary["final"]
    listed = subprocess.run([sys.executable, "-m", "forklift_core", "runs", "--project", "poly", "--json",
                             "--workspace", str(project.root)], capture_output=True, text=True, timeout=120)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [summary["run_id"]]


def test_the_cli_says_why_a_base_model_cannot_train(project, tmp_path, capsys) -> None:
    from forklift_core.cli import main

    common = ["train", "--project", "poly", "--method", "sft", "--max-steps", "1", "--include-unreviewed",
              "--workspace", str(project.root)]
    assert main([*common, "--base-model", str(tmp_path / "missing")]) == 2  # refused before a run is made
    assert "no model folder at" in capsys.readouterr().err
    (tmp_path / "not-a-model").mkdir()
    assert main([*common, "--base-model", str(tmp_path / "not-a-model")]) == 1  # the job itself fails
    error = capsys.readouterr().err
    assert re.search(r"the job failed: \w+Error: ", error) and "job.log" in error


@pytest.mark.slow
def test_a_few_real_steps_on_smollm2(project, smollm2_dir, models_dir, monkeypatch) -> None:
    launcher = LocalLauncher(project, "poly")
    run_id = launcher.start(_plan(smollm2_dir, method="sft+dpo", sft_max_steps=2, dpo_max_steps=1, batch_size=1,
                                  eval_steps=100, eval_rows=2))  # each stage's closing evaluation stays small
    status = launcher.wait(run_id, interval=1.0)
    assert status.status == "completed", launcher.logs(run_id)
    losses = [r["loss"] for r in status.progress if r["stage"] == "sft" and "loss" in r]
    assert losses and all(0 < loss < 20 for loss in losses)
    assert (status.run_dir / "adapter" / "adapter_model.safetensors").is_file()


def test_the_time_budget_ends_the_run_on_time_with_an_annealed_rate(project, tiny_llama_dir) -> None:
    launcher = LocalLauncher(project, "poly")
    budget_minutes = 0.5
    run_id = launcher.start(_plan(tiny_llama_dir, method="sft", sft_max_steps=100_000, batch_size=2, eval_steps=10_000,
                                  save_steps=100_000, time_budget_minutes=budget_minutes))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "completed", launcher.logs(run_id)
    manifest = status.manifest
    # Far more steps were asked for than fit: the clock ended the stage, and the whole run kept to its budget.
    assert manifest["sft_ended_by_time_budget"] is True and 0 < manifest["sft_steps_done"] < 100_000
    assert manifest["wall_seconds"] <= budget_minutes * 60 * 1.1
    rates = [r["learning_rate"] for r in status.progress if "learning_rate" in r]
    assert max(rates) > 0.5 * manifest["plan"]["learning_rate"] and rates[-1] < 0.25 * max(rates)
    assert (status.run_dir / "adapter" / "adapter_config.json").is_file()


def test_a_default_plan_trains_on_the_curriculum(project, tiny_llama_dir) -> None:
    launcher = LocalLauncher(project, "poly")
    plan = _plan(tiny_llama_dir, method="sft", sft_max_steps=-1)
    preview = launcher.preview(plan)  # what the Train tab says before launch
    run_id = launcher.prepare(plan)
    manifest = launcher.poll(run_id).manifest
    curriculum = manifest["curriculum"]
    assert manifest["train_dataset"] == "curriculum" and curriculum["facts_covered"] > 0
    assert preview is not None and preview.summary() == curriculum["summary"]  # the preview is what runs
    assert curriculum["grounded_rows"] > 0 and "with index records" in curriculum["summary"]
    assert curriculum["summary"].startswith(f"{curriculum['facts_covered']:,} facts × 3 phrasings × 3 passes")
    from datasets import load_from_disk

    train = load_from_disk(str(launcher.run_dir(run_id) / "curriculum" / "sft"))["train"]
    assert len(train) >= curriculum["rows"] and set(train["fact_id"]) <= set(
        __import__("json").loads((launcher.run_dir(run_id) / "curriculum" / "facts.json").read_text()))
