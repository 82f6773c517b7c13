"""C call sites and type uses by a lexical scan in native code (`_native.c`): cscope's findings without its database.

cscope builds a cross-reference database that ForkLift then reads back and filters; on a kernel tree the build and
the read cost about as much as ctags itself. The scan reads each file once, keeps only what the index uses (calls,
and names after struct/union/enum or among the typedefs) and hands back columns. cscope stays as the fallback when
the extension was not built (`native.native_available`).
"""

from __future__ import annotations

from typing import Collection, Sequence

import pyarrow as pa

from forklift_core.ingest.buffers import read_laid_out
from forklift_core.ingest.native import native, uses_columns


def c_lexical_uses(root: str, paths: Sequence[str], type_names: Collection[str]) -> pa.Table:
    """Call sites and type uses of the listed C files, as name-use rows (path, line, name, kind)."""
    if native is None:
        raise RuntimeError("the native C scanner is not built (pip install -e . builds it)")
    files = read_laid_out(root, paths)  # a file gone since the walk has no uses
    # Typedef names are C identifiers: one a line, nothing else can split them.
    names_given = "\n".join(sorted(name for name in type_names if name.isidentifier())).encode()
    return uses_columns(files.paths, *native.c_uses(files.data, files.ends.tobytes(), names_given))
