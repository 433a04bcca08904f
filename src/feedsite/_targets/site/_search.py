"""Full-text search: feedsite's own static index, Chinese and English, updated incrementally.

Why not Pagefind: it re-indexes every page on every change (about 20 s and 2 GB of
memory at 10,000 posts), while a news site adds a few dozen posts an hour.

**Tokens** (``tokens``; ``static/search.js`` applies the same rules to the query):
the text is NFKC-normalised and lower-cased; every run of CJK characters gives its
overlapping bigrams (人工智能 → 人工 工智 智能; a lone character stands for itself),
every other run of letters and digits of two or more characters is a word. A query
matches a post holding all of its tokens; posts whose title holds the query come first,
then the newest.

**Files** under ``searchindex/``: ``meta.json`` lists the segments (newest first), each
with its shard count, document count and dead documents. A segment ``<id>/`` holds
``s<n>.json`` shards (token → document numbers, delta-encoded; a token's shard is
FNV-1a of its UTF-16 code units modulo the shard count), ``d<n>.json`` chunks of
:data:`DOC_CHUNK` documents (page path, title, source, date, excerpt) and ``ids.json``
(uid and document key of each document: read back by the next build, never by the
browser). A segment's id is a hash of its ``ids.json``, so the same posts give the
same bytes.

**Updates** (``plan_index``, pure): documents whose post is gone or changed become
dead; posts not indexed go into a new segment. When there would be more than
:data:`MAX_SEGMENTS` segments the small ones are merged with the new posts; when the
dead and the small segments together exceed :data:`REBUILD_SHARE` of the posts, the
whole index is rebuilt into one segment.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

INDEX_DIR = "searchindex/"
META = INDEX_DIR + "meta.json"
#: Format of the files; bumped when the tokens or the layout change (forces a rebuild).
VERSION = 1
#: Documents per ``d<n>.json`` chunk.
DOC_CHUNK = 500
#: Postings aimed at per shard (a shard is one fetch of the search page).
SHARD_POSTINGS = 40_000
MAX_SHARDS = 256
MAX_SEGMENTS = 6
REBUILD_SHARE = 0.3

#: Character ranges taken as CJK (kana, Han, hangul); a regex class body.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_BIGRAM = re.compile(f"(?=([{CJK}]{{2}}))")
_LONE_CJK = re.compile(f"(?<![{CJK}])[{CJK}](?![{CJK}])")
_ANY_CJK = re.compile(f"[{CJK}]")
_WORD = re.compile(f"[^\\W_{CJK}]{{2,}}")
_TAG = re.compile(r"<[^>]*>")


def tokens(text: str) -> set[str]:
    """The search tokens of ``text`` (plain text; see the module docstring)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    found = set(_WORD.findall(text))
    if _ANY_CJK.search(text):
        found.update(_BIGRAM.findall(text))
        found.update(_LONE_CJK.findall(text))
    return found


def plain_text(body_html: str) -> str:
    """The text of an HTML body, tags dropped and entities decoded."""
    return html.unescape(_TAG.sub(" ", body_html))


def shard_of(token: str, shards: int) -> int:
    """FNV-1a (32 bit) of the token's UTF-16 code units, modulo ``shards``."""
    h = 0x811C9DC5
    data = token.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h = ((h ^ (data[i] | data[i + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    return h % shards


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One post as the index holds it."""

    uid: str
    #: Changes whenever anything the index shows or searches changes.
    key: str
    path: str
    title: str
    source: str
    date: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment already published: its documents (in number order) and the dead ones."""

    id: str
    shards: int
    docs: tuple[tuple[str, str], ...]
    dead: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """What the index should become."""

    #: Published segments that stay, with their updated dead sets (newest first).
    keep: tuple[Segment, ...]
    #: uids of the posts for a new segment, newest first (empty: no new segment).
    new: tuple[str, ...]
    #: Whether anything changes at all.
    changed: bool
    rebuild: bool


def plan_index(live: Sequence[tuple[str, str]], segments: Sequence[Segment]) -> IndexPlan:
    """Decide the index's next state. Pure.

    Args:
        live: (uid, document key) of every post, newest first.
        segments: the published segments, newest first (empty: no usable index).
    """
    wanted = dict(live)
    claimed: set[str] = set()
    updated: list[Segment] = []
    for seg in segments:
        dead = set(seg.dead)
        for n, (uid, key) in enumerate(seg.docs):
            if n in dead:
                continue
            if wanted.get(uid) == key and uid not in claimed:
                claimed.add(uid)
            else:
                dead.add(n)
        updated.append(Segment(seg.id, seg.shards, seg.docs, frozenset(dead)))
    new = [uid for uid, _key in live if uid not in claimed]
    changed = bool(new) or any(u.dead != s.dead for u, s in zip(updated, segments, strict=True))
    everything = tuple(uid for uid, _key in live)
    if not segments:
        return IndexPlan((), everything, True, True)
    if not changed:
        return IndexPlan(tuple(segments), (), False, False)
    base = max(updated, key=lambda s: len(s.docs))
    small = [s for s in updated if s is not base]
    dead_docs = sum(len(s.dead) for s in updated)
    churn = dead_docs + sum(len(s.docs) - len(s.dead) for s in small) + len(new)
    if churn > REBUILD_SHARE * max(len(live), 1) or len(base.dead) == len(base.docs):
        return IndexPlan((), everything, True, True)
    if len(updated) + 1 > MAX_SEGMENTS:
        merged = {uid for s in small for n, (uid, _k) in enumerate(s.docs) if n not in s.dead}
        order = [uid for uid, _key in live if uid in merged or uid not in claimed]
        return IndexPlan((base,), tuple(order), True, False)
    return IndexPlan(tuple(updated), tuple(new), True, False)


def build_segment(docs: Sequence[SearchDoc], texts: Iterable[str]) -> tuple[str, dict[str, bytes]]:
    """A segment's files (path under the site → bytes) for ``docs`` with their plain texts.

    ``texts`` yields each document's searchable text in the order of ``docs``.
    """
    postings: dict[str, list[int]] = {}
    total = 0
    for n, (doc, text) in enumerate(zip(docs, texts, strict=True)):
        found = tokens(doc.title + " " + text)
        total += len(found)
        for token in found:
            have = postings.get(token)
            if have is None:
                postings[token] = [n]
            else:
                have.append(n)
    ids = _json([[d.uid, d.key] for d in docs])
    seg_id = hashlib.sha256(ids).hexdigest()[:12]
    shards = max(1, min(MAX_SHARDS, math.ceil(total / SHARD_POSTINGS)))
    buckets: list[dict[str, list[int]]] = [{} for _ in range(shards)]
    for token, numbers in postings.items():
        deltas = [numbers[0]]
        deltas.extend(b - a for a, b in itertools.pairwise(numbers))
        buckets[shard_of(token, shards)][token] = deltas
    prefix = f"{INDEX_DIR}{seg_id}/"
    files = {prefix + "ids.json": ids}
    for i, bucket in enumerate(buckets):
        files[f"{prefix}s{i}.json"] = _json(dict(sorted(bucket.items())))
    for start in range(0, len(docs), DOC_CHUNK):
        chunk = docs[start : start + DOC_CHUNK]
        files[f"{prefix}d{start // DOC_CHUNK}.json"] = _json(
            [[d.path, d.title, d.source, d.date, d.excerpt] for d in chunk]
        )
    return seg_id, files


def meta_bytes(segments: Sequence[Segment], settings_key: str) -> bytes:
    """``meta.json`` for these segments (newest first)."""
    return _json(
        {
            "version": VERSION,
            "key": settings_key,
            "chunk": DOC_CHUNK,
            "segments": [
                {"id": s.id, "shards": s.shards, "docs": len(s.docs), "dead": sorted(s.dead)}
                for s in segments
            ],
        }
    )


def read_segments(files: Mapping[str, bytes], settings_key: str) -> list[Segment]:
    """The published segments from ``meta.json`` and each ``ids.json`` (empty if unusable)."""
    try:
        meta = json.loads(files[META])
        if meta.get("version") != VERSION or meta.get("key") != settings_key:
            return []
        out = []
        for s in meta["segments"]:
            ids = json.loads(files[f"{INDEX_DIR}{s['id']}/ids.json"])
            docs = tuple((str(uid), str(key)) for uid, key in ids)
            if len(docs) != s["docs"]:
                return []
            out.append(Segment(str(s["id"]), int(s["shards"]), docs, frozenset(s["dead"])))
        return out
    except (KeyError, ValueError, TypeError):
        return []


def segment_files(segment_id: str, paths: Iterable[str]) -> list[str]:
    """The paths among ``paths`` that belong to a segment."""
    prefix = f"{INDEX_DIR}{segment_id}/"
    return [p for p in paths if p.startswith(prefix)]


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
