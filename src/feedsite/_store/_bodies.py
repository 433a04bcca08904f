"""An item's bodies as the state keeps them (table ``bodies``, issue #16): what the feed
said (``content_html``, ``summary_html``, ``description_raw``) and the cleaned body, each
distinct text once, the cleaned body as the changes the cleaner made to the feed's body,
compressed together with zlib. Contains no business logic.

Why zlib and not zstd: on the corpora's bodies zlib (level 6) compresses as well as zstd
(level 3 or 9) and needs no dependency; zstd is faster, but a body is compressed once
(docs/scale.md has the measurements).

Why a delta for the cleaned body: it is the feed's body with some tags rewritten, but
zlib finds a repeat only within the last 32 KB, so the cleaned copy of a long body was
stored whole a second time (a fifth of the state at 10,000 feeds, docs/scale.md).
"""

from __future__ import annotations

import json
import zlib
from itertools import accumulate

#: (content_html, summary_html, description_raw, body_clean)
Bodies = tuple[str | None, str | None, str | None, str | None]

#: Format 1 (schema 10): zlib of JSON ``[texts, refs]``, each ref an index in texts.
_V1 = b"\x01"
#: Format 2 (schema 11): format 1, but the cleaned body's ref may be a delta (see pack).
_V2 = b"\x02"
_LEVEL = 6
#: Pieces (text between two ``<``) shorter than this are copied only in sequence, never
#: looked up elsewhere in the base: ``p>``, ``/a>`` are everywhere.
_MIN_LOOKUP = 4
#: A cleaned body is stored as a delta only when its base is at least this long (in
#: characters): below, zlib's 32 KB window sees the base from the cleaned copy and finds
#: the repeats itself, and the delta's pure-Python walk would be CPU for nothing (it cost
#: 14 % of a 200-feed run of real feeds, which are mostly short: docs/scale.md).
_DELTA_FROM = 8192


def pack(bodies: Bodies) -> bytes:
    """The stored form: a version byte, then zlib of JSON ``[texts, refs]`` where each
    ref is the index of the body's text in ``texts`` (None: no such body), or, for a
    cleaned body that is none of the others, possibly ``[base, *ops]``: the text rebuilt
    from ``texts[base]`` (the content, else the summary) by ``ops``, each a string (copied
    as is) or two ints ``start, length`` (a slice of the base)."""
    texts: list[str] = []
    where: dict[str, int] = {}  # each text's first index in texts
    refs: list[int | list[int | str] | None] = []
    base = bodies[0] or bodies[1]
    for i, text in enumerate(bodies):
        if text is None:
            refs.append(None)
            continue
        known = where.get(text)
        if known is not None:
            refs.append(known)
            continue
        ops = _delta(base, text) if i == 3 and base and len(base) >= _DELTA_FROM else None
        if ops is None:
            where[text] = len(texts)
            refs.append(len(texts))
            texts.append(text)
        else:
            refs.append([where[base], *ops])  # type: ignore[index]
    data = json.dumps([texts, refs], ensure_ascii=False, separators=(",", ":"))
    return _V2 + zlib.compress(data.encode("utf-8"), _LEVEL)


def unpack(blob: bytes) -> Bodies:
    """The bodies of a stored form made by :func:`pack` (or by schema 10's)."""
    if blob[:1] not in (_V1, _V2):
        raise ValueError(f"unknown body format {blob[:1]!r}")
    texts, refs = json.loads(zlib.decompress(blob[1:]).decode("utf-8"))
    a, b, c, d = (_text(texts, r) for r in refs)
    return a, b, c, d


def is_current(blob: bytes) -> bool:
    """Whether a stored form is in the current format (migration 11 repacks the others)."""
    return blob[:1] == _V2


def _text(texts: list[str], ref: int | list[int | str] | None) -> str | None:
    if ref is None or isinstance(ref, int):
        return None if ref is None else texts[ref]
    base = texts[ref[0]]  # type: ignore[index]
    out: list[str] = []
    ops = iter(ref[1:])
    for op in ops:
        out.append(op if isinstance(op, str) else base[op : op + next(ops)])  # type: ignore[operator]
    return "".join(out)


def _delta(base: str, text: str) -> list[int | str] | None:
    """``text`` as slices of ``base`` and strings (see :func:`pack`); None when it
    shares no piece with ``base``.

    Cut both at every ``<``, walk ``text``'s pieces, copy each from ``base`` where it is
    the next piece there, or else where it is found (a piece of at least
    :data:`_MIN_LOOKUP` characters), and spell out the rest. Linear: a cleaner keeps the
    order of what it keeps, so a text that is its cleaned copy is a few long slices.
    """
    pieces = base.split("<")
    n = len(pieces)
    # Piece k (with its "<" unless k = 0) is base[ends[k - 1] - 1 : ends[k] - 1].
    ends = list(accumulate(map((1).__add__, map(len, pieces))))
    found: dict[str, int] | None = None
    ops: list[int | str] = []
    literal: list[str] = []
    start = stop = -1  # the slice being extended; start < 0: none
    i = 0  # the next piece of base in sequence
    for m, piece in enumerate(text.split("<")):
        k = -1
        if i < n and pieces[i] == piece and (i == 0) == (m == 0):
            k = i
        elif m and len(piece) >= _MIN_LOOKUP:
            if found is None:
                found = {}
                for j in range(n - 1, 0, -1):  # the first place of each piece wins
                    if len(pieces[j]) >= _MIN_LOOKUP:
                        found[pieces[j]] = j
            k = found.get(piece, -1)
        if k < 0:
            if start >= 0:
                ops += (start, stop - start)
                start = -1
            literal.append("<" + piece if m else piece)
            continue
        i = k + 1
        a = ends[k - 1] - 1 if k else 0
        if start >= 0 and a == stop:
            stop = ends[k] - 1
            continue
        if start >= 0:
            ops += (start, stop - start)
        elif literal:
            ops.append("".join(literal))
            literal = []
        start, stop = a, ends[k] - 1
    if start >= 0:
        ops += (start, stop - start)
    elif literal:
        ops.append("".join(literal))
    if all(isinstance(op, str) for op in ops):
        return None
    return ops
