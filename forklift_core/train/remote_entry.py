"""ForkLift on a remote machine (HF Jobs, a training Space): fetch the run bundle, run job.py, push the adapter.

Self-contained like job.py (it imports nothing from forklift_core): the bundle repo carries both files. The
token arrives as the HF_TOKEN secret and the targets as environment variables; huggingface_hub reads both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def main() -> int:
    from huggingface_hub import HfApi, snapshot_download

    bundle = Path(snapshot_download(os.environ["FORKLIFT_BUNDLE"], repo_type="dataset",
                                    revision=os.environ["FORKLIFT_BUNDLE_REVISION"]))
    run_dir = Path(os.environ.get("FORKLIFT_RUN_DIR", "forklift-run"))
    print(f"ForkLift run {os.environ.get('FORKLIFT_RUN_ID', '')}: training from {os.environ['FORKLIFT_BUNDLE']}",
          flush=True)
    job = subprocess.Popen([sys.executable, str(bundle / "job.py"), "--plan", str(bundle / "plan.yaml"),
                            "--dataset", str(bundle / "data"), "--run-dir", str(run_dir)])
    # Stopped from outside (a timeout, a cancel): job.py saves and exits on SIGTERM, and what it has still goes back.
    signal.signal(signal.SIGTERM, lambda *_: job.send_signal(signal.SIGTERM))
    code = job.wait()
    model_repo = os.environ["FORKLIFT_MODEL_REPO"]
    api = HfApi()
    api.create_repo(model_repo, private=True, exist_ok=True)  # private: the user publishes it when they want
    # Whatever the outcome, the figures go back (a failed run's manifest says why); the adapter when there is one.
    api.upload_folder(repo_id=model_repo, folder_path=str(run_dir), allow_patterns=[
        "adapter/*", "manifest.json", "progress.jsonl", "plan.yaml"],
        commit_message=f"ForkLift run {os.environ.get('FORKLIFT_RUN_ID', '')} (exit {code})")
    print(f"ForkLift: job exited {code}; results pushed to {model_repo}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
