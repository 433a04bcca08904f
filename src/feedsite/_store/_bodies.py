"""An item's bodies as the state keeps them (table ``bodies``, issue #16): what the feed
said (``content_html``, ``summary_html``, ``description_raw``) and the cleaned body, each
distinct text once, compressed together with zlib. Contains no business logic.

Why zlib and not zstd: on the corpora's bodies zlib (level 6) compresses as well as zstd
(level 3 or 9) and needs no dependency; zstd is faster, but a body is compressed once
(docs/scale.md has the measurements).
"""

from __future__ import annotations

import json
import zlib

#: (content_html, summary_html, description_raw, body_clean)
Bodies = tuple[str | None, str | None, str | None, str | None]

_VERSION = b"\x01"
_LEVEL = 6


def pack(bodies: Bodies) -> bytes:
    """The stored form: a version byte, then zlib of JSON ``[texts, refs]`` where each
    ref is the index of the body's text in ``texts`` (None: no such body)."""
    texts: list[str] = []
    refs: list[int | None] = []
    for text in bodies:
        if text is None:
            refs.append(None)
            continue
        try:
            refs.append(texts.index(text))
        except ValueError:
            refs.append(len(texts))
            texts.append(text)
    data = json.dumps([texts, refs], ensure_ascii=False, separators=(",", ":"))
    return _VERSION + zlib.compress(data.encode("utf-8"), _LEVEL)


def unpack(blob: bytes) -> Bodies:
    """The bodies of a stored form made by :func:`pack`."""
    if blob[:1] != _VERSION:
        raise ValueError(f"unknown body format {blob[:1]!r}")
    texts, refs = json.loads(zlib.decompress(blob[1:]).decode("utf-8"))
    a, b, c, d = (None if r is None else texts[r] for r in refs)
    return a, b, c, d
