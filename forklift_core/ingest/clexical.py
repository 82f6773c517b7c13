"""C call sites and type uses by a lexical scan in native code (`_native.c`): cscope's findings without its database.

cscope builds a cross-reference database that ForkLift then reads back and filters; on a kernel tree the build and
the read cost about as much as ctags itself. The scan reads each file once, keeps only what the index uses (calls,
and names after struct/union/enum or among the typedefs) and hands back columns. cscope stays as the fallback when
the extension was not built (`native.native_available`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Collection, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.ingest.incremental import USES_SCHEMA

from forklift_core.ingest.native import native


def c_lexical_uses(root: str, paths: Sequence[str], type_names: Collection[str]) -> pa.Table:
    """Call sites and type uses of the listed C files, as name-use rows (path, line, name, kind)."""
    if native is None:
        raise RuntimeError("the native C scanner is not built (pip install -e . builds it)")
    texts, ends, kept, total = [], [], [], 0
    for path in paths:
        try:
            text = (Path(root) / path).read_bytes()
        except OSError:
            continue  # gone since the walk: it has no uses
        texts.append(text)
        total += len(text)
        ends.append(total)
        kept.append(path)
    # Typedef names are C identifiers: one a line, nothing else can split them.
    names_given = "\n".join(sorted(name for name in type_names if name.isidentifier())).encode()
    files, lines, kinds, name_ends, names = native.c_uses(b"".join(texts), np.array(ends, np.int64).tobytes(),
                                                          names_given)
    count = len(kinds)
    if not count:
        return USES_SCHEMA.empty_table()
    offsets = np.concatenate([[0], np.frombuffer(name_ends, np.int64)])
    # The scanner's names are ASCII identifiers, so the bytes are valid text as they are.
    name_column = pa.Array.from_buffers(pa.large_string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(names)])
    return pa.table({"path": pa.DictionaryArray.from_arrays(pa.array(np.frombuffer(files, np.int32)),
                                                           pa.array(kept, pa.string())),
                     "line": pa.array(np.frombuffer(lines, np.int64)),
                     "name": pc.cast(name_column, pa.string()),
                     "kind": pa.DictionaryArray.from_arrays(pa.array(np.frombuffer(kinds, np.uint8).astype(np.int32)),
                                                            pa.array(["call", "use"]))},
                    schema=USES_SCHEMA)
