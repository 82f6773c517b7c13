"""The core never imports gradio: only forklift_core.ui may."""

import subprocess
import sys

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
