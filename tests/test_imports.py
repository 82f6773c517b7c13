"""The core never imports gradio: only forklift_core.ui may."""

import subprocess
import sys
from pathlib import Path

CORE_MODULES = [
    "forklift_core", "forklift_core.cli", "forklift_core.config", "forklift_core.records",
    "forklift_core.workspace", "forklift_core.models", "forklift_core.example", "forklift_core.ingest.index",
    "forklift_core.ingest.tables",
]


def test_core_import_does_not_import_gradio() -> None:
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE_MODULES) + "print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_ui_does_import_gradio() -> None:
    code = "import sys, forklift_core.ui; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True"


def test_a_worker_importing_the_app_loads_no_ui() -> None:
    # A spawned worker (the ingest's pool) imports app.py as __mp_main__: Gradio there cost every ingest in the app
    # seconds of worker start, and no worker needs it.
    app = Path(__file__).resolve().parents[1] / "app.py"
    code = (f"import runpy, sys; runpy.run_path({str(app)!r}, run_name='__mp_main__'); "
            "print('gradio' in sys.modules, 'forklift_core.ui' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"
