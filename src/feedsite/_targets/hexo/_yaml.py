"""YAML scalar quoting that every YAML reader (PyYAML, js-yaml) reads back verbatim.

Pure; contains no business logic.
"""

from __future__ import annotations

import re

# Characters a YAML reader would fold, reject or treat as a line break inside a
# quoted scalar: C0/C1 controls, DEL, BOM, line/paragraph separators, non-characters.
UNSAFE_IN_QUOTES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")

_NAMED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}
_SPECIAL = re.compile('[\\\\"]|' + UNSAFE_IN_QUOTES.pattern)


def double_quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar with every risky character escaped."""
    return '"' + _SPECIAL.sub(_escape, value) + '"'


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
