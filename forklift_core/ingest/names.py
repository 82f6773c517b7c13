"""Which file names ForkLift will hand to a tool: one rule for the walk and for archive extraction."""

from __future__ import annotations

import re

# Control characters break line-based file lists (ctags -L, cscope -i): a newline in a name would smuggle a
# second, attacker-chosen path into the list. Leading or trailing blanks are trimmed by some readers.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_name_reason(name: str) -> str | None:
    """Why a file or folder name is skipped ("unsafe_name" or "undecodable_name"), or None to keep it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.walk hands back non-UTF-8 bytes as surrogates
        return "undecodable_name"
    if _UNSAFE_CHARACTERS.search(name) or name != name.strip():
        return "unsafe_name"
    return None
