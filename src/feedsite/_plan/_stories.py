"""Story clusters (issue #15): which items of the whole tree report the same story. Pure.

Does not read or write the state, the files or the clock (every time is passed in); the
store keeps what :meth:`Signature.to_row` gives and an index of :attr:`Signature.keys`
(one table keyed by an int), and asks :func:`find_links` about new items only.

Two items are the same story when, within :data:`WINDOW` of each other (docs/stories.md):

* ``url``: they share a canonical URL (their link or a guid that is a URL; tracking
  parameters, ``www.``/``m.``, the scheme, a trailing slash and the fragment dropped);
* ``title``: their normalised titles are equal (site prefixes and suffixes such as
  ``【快讯】`` or ``| 36氪`` dropped, NFKC, a few Traditional characters folded, punctuation
  and spaces removed), long enough, and their bodies, when both have one, do not disagree
  (the MinHash estimate at least :data:`TITLE_BODY_MIN`: a daily digest keeps its title
  every day and changes its text);
* ``body``: the MinHash estimate of the Jaccard similarity of their bodies' token 3-grams
  (CJK: characters; other scripts: words) is at least :data:`BODY_MIN`.

Every test is symmetric, so the stories (the connected components of these links) are the
same whatever order the items come in; the lead of a story is its first member by
(priority, time, key) and its id a hash of the lead's key.

Candidates come only from the index: the LSH band keys of the body sketch, the canonical
URLs and the title key; a new item is never compared with every item.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from feedsite.config import FeedSpec

#: How far apart in time two items of one story may be.
WINDOW = timedelta(hours=72)
#: Bins of the one-permutation MinHash sketch (2**6: a bin is the top 6 bits of a hash).
BINS = 64
_BIN_SHIFT = 32 - 6
#: LSH: the sketch's bins cut into bands of this many rows (21 bands of 3; one bin unused).
ROWS = 3
BANDS = BINS // ROWS
#: Body tokens hashed: the head of the text (a truncated copy keeps the head).
BODY_TOKENS = 300
#: A body with fewer 3-grams has no sketch (no body test, no bands).
MIN_SHINGLES = 30
#: Body test: estimated Jaccard similarity at least this.
BODY_MIN = 0.5
#: Title test: when both items have a body, the estimate must be at least this.
TITLE_BODY_MIN = 0.2
#: Body test: the titles must share at least this (:func:`title_overlap`).
TITLE_OVERLAP = 0.5
#: Title test: a title key must weigh at least this (CJK characters 2, others 1).
TITLE_MIN_WEIGHT = 8

Key = tuple[str, str]
Why = Literal["url", "title", "body"]

_SKETCH = struct.Struct(f"<{BINS}I")
_EMPTY = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class StoryItem:
    """What the caller knows of one item, for its signature. Does not hold the body HTML."""

    #: (feed key, item id).
    key: Key
    link: str | None
    guid: str | None
    title: str
    #: Plain text of the body (the caller strips the markup).
    text: str
    #: The item's date, else when it was first seen; aware UTC.
    time: datetime
    #: Lower leads (the caller derives it from the tree's order or ``priority:``).
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Signature:
    """What is kept of an item to cluster it; no text, a few hundred bytes."""

    key: Key
    time: datetime
    priority: int
    #: Canonical URLs (link, guid when a URL), sorted, without repeats.
    urls: tuple[str, ...]
    #: The normalised title (:func:`title_key`).
    title: str
    #: The forms the title test compares (:func:`title_keys`); () when too short.
    titles: tuple[str, ...]
    #: One-permutation MinHash of the body, :data:`BINS` little-endian 32-bit ints;
    #: b"" when the body is short.
    sketch: bytes
    #: Index keys (63-bit ints): LSH bands of the sketch, the URLs, the title.
    keys: tuple[int, ...] = field(default=())

    def to_row(self) -> tuple[str, str, int, int, str, str, str, bytes, bytes]:
        """(feed_key, item_id, time in µs since the epoch, priority, urls and title forms
        joined by line breaks, title, sketch, index keys): ints, str and bytes for one SQLite
        row."""
        t = self.time
        micros = (t - _EPOCH) // timedelta(microseconds=1)
        keys = struct.pack(f"<{len(self.keys)}q", *self.keys)
        urls, titles = "\n".join(self.urls), "\n".join(self.titles)
        return (*self.key, micros, self.priority, urls, titles, self.title, self.sketch, keys)

    @classmethod
    def from_row(cls, row: Sequence[object]) -> Signature:
        """The inverse of :meth:`to_row`."""
        feed, item, micros, priority, urls, titles, title, sketch, keys = row
        assert isinstance(feed, str) and isinstance(item, str)
        assert isinstance(micros, int) and isinstance(priority, int)
        assert isinstance(urls, str) and isinstance(titles, str) and isinstance(title, str)
        assert isinstance(sketch, bytes) and isinstance(keys, bytes)
        return cls(
            key=(feed, item),
            time=_EPOCH + timedelta(microseconds=micros),
            priority=priority,
            urls=tuple(urls.split("\n")) if urls else (),
            title=title,
            titles=tuple(titles.split("\n")) if titles else (),
            sketch=sketch,
            keys=struct.unpack(f"<{len(keys) // 8}q", keys),
        )


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """Two items found to be one story, and why (``a < b``)."""

    a: Key
    b: Key
    why: Why


@dataclass(frozen=True, slots=True)
class Story:
    """One story: its members in lead order (the lead first) and the links that join them."""

    #: 16 hex digits of a hash of the lead's key.
    id: str
    lead: Key
    members: tuple[Key, ...]
    links: tuple[Link, ...]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --- normalisation -------------------------------------------------------------------

#: Query parameters that only track the reader (dropped from canonical URLs).
TRACKING = frozenset(
    {
        "spm", "from", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid",
        "mc_eid", "_hsenc", "_hsmi", "ref_src", "ref_url", "share_token", "scene",
        "isappinstalled", "wfr", "timestamp", "share_from", "utm",
    }
)  # fmt: skip
_HOST_PREFIXES = ("www.", "m.", "wap.", "mobile.")


def canonical_url(url: str | None) -> str | None:
    """The comparison form of an article URL, or None (not http(s), or a site's home page).

    >>> canonical_url("https://m.Example.com/a/b/?utm_source=x&id=2&spm=1#top")
    'example.com/a/b?id=2'
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
            break
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = unquote(parts.path)
    while path.endswith("/"):
        path = path[:-1]
    for index in ("/index.html", "/index.htm", "/index.php"):
        if path.endswith(index):
            path = path[: -len(index)]
    query = ""
    if parts.query:
        pairs = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in TRACKING
        ]
        query = urlencode(sorted(pairs))
    if not path and not query:
        return None  # a home page: many items of a bad feed link there
    return f"{host}{path}?{query}" if query else host + path


#: Traditional → Simplified for common characters of news titles (a fold, not a converter:
#: enough that a re-posted title or body with a few variant characters still matches).
_TRAD = (
    "這個們來時會說對發國經與為學後開關長體點現實動應機電車網業產資訊報導價場數據區華東術萬億"
    "間問題頭樣從無還進過邊麼裡讓給買賣錢銀團圖書條號將專傳聯員務際雲計劃劇畫戰遊戲視頻聞紀錄"
    "歲館愛氣陸臺灣韓軟腦統級線節設協議認證試準備態標優險龍鳥魚馬門見親觀覽覺變幾廣歡樂階隊陽"
    "飛風響顯驗麗黃齊壓帶隨雖難雙雜離類顧領預頁須顏願讀護記許話語誤請課調談論識豐貝負費賽贏趨"
    "軍較載輕輸轉辦農連週運達遠選遺郵醫針鐘鐵銷鎖錯鍵閉閱陣隱靜項順頓頒飯飲餘驅鬥麥黨齡獲認號"
    "漢語參與權範圍總統稱爭環島車廠開發佈繼續歷史結構們搜尋蘋果鏡頭雲端裝置儲存"
)
_SIMP = (
    "这个们来时会说对发国经与为学后开关长体点现实动应机电车网业产资讯报导价场数据区华东术万亿"
    "间问题头样从无还进过边么里让给买卖钱银团图书条号将专传联员务际云计划剧画战游戏视频闻纪录"
    "岁馆爱气陆台湾韩软脑统级线节设协议认证试准备态标优险龙鸟鱼马门见亲观览觉变几广欢乐阶队阳"
    "飞风响显验丽黄齐压带随虽难双杂离类顾领预页须颜愿读护记许话语误请课调谈论识丰贝负费赛赢趋"
    "军较载轻输转办农连周运达远选遗邮医针钟铁销锁错键闭阅阵隐静项顺顿颁饭饮余驱斗麦党龄获认号"
    "汉语参与权范围总统称争环岛车厂开发布继续历史结构们搜寻苹果镜头云端装置储存"
)
_FOLD = dict(zip(_TRAD, _SIMP, strict=True))
#: Any character :data:`_FOLD` changes (most texts have none: a search skips the rewrite).
_FOLDED = re.compile("[" + "".join(sorted(k for k, v in _FOLD.items() if k != v)) + "]")

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
#: A token: one CJK character, or a run of other letters and digits.
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
#: A bracketed tag at the start of a title: 【快讯】, [视频], 〖独家〗, (图).
_TITLE_TAG = re.compile(
    r"^\s*(?:【[^】]{1,12}】|\[[^\]]{1,12}\]|〖[^〗]{1,12}〗|〔[^〕]{1,12}〕)\s*"
)
#: A site name after the title: "… | 36氪", "… - IT之家", "… _ 新浪科技", "… — cnBeta".
_TITLE_SITE = re.compile(r"(?:\s[\-_–—]\s|\s*[|｜]\s*)([^|｜\-_–—]{1,20}?)\s*$")
#: Any short trailing part after a separator, spaces or not ("…-IT之家"): a second form.
_TITLE_TAIL = re.compile(r"\s*[|｜\-–—_]\s*([^|｜\-–—_]{1,20}?)\s*$")
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """NFKC (full-width → half-width), a few Traditional → Simplified characters, lower case."""
    text = unicodedata.normalize("NFKC", text)
    if _FOLDED.search(text):
        text = _FOLDED.sub(lambda m: _FOLD[m.group()], text)
    return text.lower()


def title_key(title: str) -> str:
    """The comparison form of a title: tags and a trailing site name dropped, then :func:`fold`
    and every space and punctuation removed.

    >>> title_key("【快讯】苹果發佈 iPhone 17！| 36氪")
    '苹果发布iphone17'
    """
    text = unicodedata.normalize("NFKC", title)
    while True:
        stripped = _TITLE_TAG.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    m = _TITLE_SITE.search(text)
    # the part kept must be the longer: "Python 3.13 - What's new" is not a site suffix of "Python"
    if m and _title_weight(text[: m.start()]) >= 2 * _title_weight(m.group(1)):
        text = text[: m.start()]
    return _NOT_WORD.sub("", fold(text))


def title_keys(title: str) -> tuple[str, ...]:
    """The forms of a title the title test compares: :func:`title_key`, and the key without
    a shorter trailing part after a separator (``Total War: SHOGUN 2 — Ars Technica``); only
    forms that weigh at least :data:`TITLE_MIN_WEIGHT`."""
    key = title_key(title)
    forms = {key}
    text = unicodedata.normalize("NFKC", title).rstrip()
    m = _TITLE_TAIL.search(text)
    if m and _title_weight(text[: m.start()]) >= _title_weight(m.group(1)):
        forms.add(title_key(text[: m.start()]))
    return tuple(sorted(f for f in forms if _title_weight(f) >= TITLE_MIN_WEIGHT))


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)} or {key}


def title_overlap(a: str, b: str) -> float:
    """Share of the shorter title's character bigrams found in the other (0 when one is "")."""
    if not a or not b:
        return 0.0
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / min(len(x), len(y))


def _title_weight(key: str) -> int:
    return len(key) + len(_CJK_CHAR.findall(key))


def tokens(text: str) -> list[str]:
    """The body's tokens (CJK characters, other words), folded; at most :data:`BODY_TOKENS`,
    from the text's first ``12 * BODY_TOKENS`` characters. A shorter head is tried first: when
    it holds more tokens than needed, the first :data:`BODY_TOKENS` are whole and the same.
    The longer head is read only as far as its first :data:`BODY_TOKENS` tokens."""
    found: list[str] = _TOKEN.findall(fold(text[: BODY_TOKENS * 3]))
    if len(found) > BODY_TOKENS or len(text) <= BODY_TOKENS * 3:
        return found[:BODY_TOKENS]
    head = fold(text[: BODY_TOKENS * 12])
    return [m.group() for m in islice(_TOKEN.finditer(head), BODY_TOKENS)]


def shingle_hashes(text: str) -> list[int]:
    """32-bit hashes (CRC-32: stable across processes, unlike ``hash()``) of the token 3-grams
    of the head of the text. The benchmark's baseline: hashing the text alone."""
    t = tokens(text)
    crc = zlib.crc32
    return [crc(f"{a}\x1f{b}\x1f{c}".encode()) for a, b, c in zip(t, t[1:], t[2:], strict=False)]


def sketch(hashes: Iterable[int]) -> tuple[int, ...]:
    """One-permutation MinHash (Li et al. 2012) with rotation densification (Shrivastava and
    Li 2014): bin ``i`` holds the least hash whose top 6 bits are ``i``; an empty bin takes the
    next full bin's value plus its distance. () when there are fewer than :data:`MIN_SHINGLES`
    distinct 3-grams."""
    distinct = set(hashes)
    if len(distinct) < MIN_SHINGLES:
        return ()
    bins = [_EMPTY] * BINS
    low = (1 << _BIN_SHIFT) - 1
    for h in distinct:
        b, v = h >> _BIN_SHIFT, h & low
        if v < bins[b]:
            bins[b] = v
    out = bins[:]
    for b in range(BINS):
        if bins[b] == _EMPTY:
            t = 1
            while bins[(b + t) % BINS] == _EMPTY:
                t += 1
            out[b] = bins[(b + t) % BINS] | (t << _BIN_SHIFT)
    return tuple(out)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two packed sketches (the share of equal bins)."""
    same: int = sum(1 for x, y in zip(_SKETCH.unpack(a), _SKETCH.unpack(b), strict=True) if x == y)
    return same / BINS


def _key_int(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"{kind}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


_M = (1 << 63) - 1


def band_keys(sk: Sequence[int]) -> list[int]:
    """The LSH keys of a sketch: band ``i`` of :data:`ROWS` bins, mixed into 63 bits."""
    out = []
    for i in range(BANDS):
        j = i * ROWS
        v = ((i + 1) * 0x9E3779B97F4A7C15) & _M
        for x in sk[j : j + ROWS]:
            v = ((v ^ x) * 0x100000001B3) & _M
        out.append(v)
    return out


def signature(item: StoryItem) -> Signature:
    """The signature of an item: canonical URLs, title key, body sketch, index keys."""
    urls = sorted({u for u in (canonical_url(item.link), canonical_url(item.guid)) if u})
    title = title_key(item.title)
    titles = title_keys(item.title)
    sk = sketch(shingle_hashes(item.text)) if item.text else ()
    keys = band_keys(sk) if sk else []
    packed = _SKETCH.pack(*sk) if sk else b""
    keys += [_key_int("u", u) for u in urls]
    keys += [_key_int("t", t) for t in titles]
    return Signature(
        item.key, item.time, item.priority, tuple(urls), title, titles, packed, tuple(keys)
    )


# --- clustering ----------------------------------------------------------------------


def match(a: Signature, b: Signature, window: timedelta = WINDOW) -> Why | None:
    """Why two items are one story, or None. Symmetric: ``match(a, b) == match(b, a)``."""
    if abs(a.time - b.time) > window:
        return None
    if a.urls and b.urls and not set(a.urls).isdisjoint(b.urls):
        return "url"
    sim = similarity(a.sketch, b.sketch) if a.sketch and b.sketch else None
    if (
        a.titles
        and b.titles
        and not set(a.titles).isdisjoint(b.titles)
        and (sim is None or sim >= TITLE_BODY_MIN)
    ):
        return "title"
    # a body alone is not enough: templates repeat one text under many titles
    if sim is not None and sim >= BODY_MIN and title_overlap(a.title, b.title) >= TITLE_OVERLAP:
        return "body"
    return None


def _pair(a: Key, b: Key, why: Why) -> Link:
    return Link(a, b, why) if a < b else Link(b, a, why)


def find_links(
    existing: Mapping[Key, Signature],
    candidates_of: Callable[[int], Iterable[Key]],
    new: Sequence[Signature],
    *,
    window: timedelta = WINDOW,
) -> tuple[Link, ...]:
    """The links of the new signatures, to existing ones and among themselves.

    Args:
        existing: the signatures already indexed (a new one with the same key replaces it).
        candidates_of: the keys indexed under one index key (the store's index table).
        new: the signatures to add.
        window: the largest time difference within a story.

    Returns:
        The links found, sorted.
    """
    found: dict[tuple[Key, Key], Why] = {}
    batch: dict[int, list[Signature]] = {}
    for sig in new:
        seen: set[Key] = {sig.key}
        for k in sig.keys:
            for other_key in candidates_of(k):
                if other_key in seen:
                    continue
                seen.add(other_key)
                other = existing.get(other_key)
                if other is not None:
                    why = match(sig, other, window)
                    if why is not None:
                        link = _pair(sig.key, other_key, why)
                        found[link.a, link.b] = why
            for other in batch.get(k, ()):
                if other.key in seen:
                    continue
                seen.add(other.key)
                why = match(sig, other, window)
                if why is not None:
                    link = _pair(sig.key, other.key, why)
                    found[link.a, link.b] = why
        for k in sig.keys:
            batch.setdefault(k, []).append(sig)
    return tuple(sorted(Link(a, b, why) for (a, b), why in found.items()))


def story_id(lead: Key) -> str:
    """16 hex digits of a hash of the lead's key."""
    return hashlib.sha256("\x1f".join(lead).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _order(sig: Signature) -> tuple[int, datetime, Key]:
    return (sig.priority, sig.time, sig.key)


def group(signatures: Mapping[Key, Signature], links: Iterable[Link]) -> tuple[Story, ...]:
    """The stories of these members: connected components of the links between them
    (links to others are ignored), singletons included, sorted by id."""
    parent: dict[Key, Key] = {k: k for k in signatures}

    def root(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    kept: list[Link] = []
    for link in links:
        if link.a in parent and link.b in parent:
            kept.append(link)
            ra, rb = root(link.a), root(link.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members: dict[Key, list[Key]] = {}
    for k in signatures:
        members.setdefault(root(k), []).append(k)
    by_root: dict[Key, list[Link]] = {}
    for link in kept:
        by_root.setdefault(root(link.a), []).append(link)
    stories = []
    for r, keys in members.items():
        ordered = sorted(keys, key=lambda k: _order(signatures[k]))
        lead = ordered[0]
        stories.append(
            Story(story_id(lead), lead, tuple(ordered), tuple(sorted(by_root.get(r, []))))
        )
    return tuple(sorted(stories, key=lambda s: s.id))


def without(
    story: Story, removed: Collection[Key], signatures: Mapping[Key, Signature]
) -> tuple[Story, ...]:
    """What is left of a story once some members are removed (pruned, deleted): its other
    members regrouped by the links left (it may split), each led by its first member."""
    left = {k: signatures[k] for k in story.members if k not in removed}
    return group(left, (x for x in story.links if x.a not in removed and x.b not in removed))


class StoryIndex:
    """The stories of a set of signatures, in memory: what the store mirrors as tables (an
    index keyed by :attr:`Signature.keys`, the signatures, the links). For tests and the
    benchmark; does not persist anything."""

    def __init__(self, window: timedelta = WINDOW) -> None:
        self.window = window
        #: Every signature indexed, by key.
        self.signatures: dict[Key, Signature] = {}
        self._index: dict[int, list[Key]] = {}
        self._links: dict[Key, dict[Key, Link]] = {}

    def candidates(self, k: int) -> list[Key]:
        """The keys indexed under ``k``."""
        return self._index.get(k, [])

    def add(self, new: Sequence[Signature]) -> tuple[Link, ...]:
        """Index new signatures (replacing any with the same key); the links found."""
        replaced = [s.key for s in new if s.key in self.signatures]
        if replaced:
            self.remove(replaced)
        links = find_links(self.signatures, self.candidates, new, window=self.window)
        for sig in new:
            self.signatures[sig.key] = sig
            for k in sig.keys:
                self._index.setdefault(k, []).append(sig.key)
        for link in links:
            self._links.setdefault(link.a, {})[link.b] = link
            self._links.setdefault(link.b, {})[link.a] = link
        return links

    def remove(self, keys: Iterable[Key]) -> None:
        """Forget items (pruned or deleted): their signatures, index entries and links."""
        for key in keys:
            sig = self.signatures.pop(key, None)
            if sig is None:
                continue
            for k in sig.keys:
                bucket = self._index[k]
                bucket.remove(key)
                if not bucket:
                    del self._index[k]
            for other in self._links.pop(key, {}):
                del self._links[other][key]

    def story_of(self, key: Key) -> Story:
        """The story an indexed item belongs to."""
        seen = {key}
        todo = [key]
        links: set[Link] = set()
        while todo:
            k = todo.pop()
            for other, link in self._links.get(k, {}).items():
                links.add(link)
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        (story,) = group({k: self.signatures[k] for k in seen}, links)
        return story

    def stories(self) -> tuple[Story, ...]:
        """Every story, sorted by id."""
        links = {x for per in self._links.values() for x in per.values()}
        return group(self.signatures, links)


def cluster(items: Iterable[Signature], window: timedelta = WINDOW) -> tuple[Story, ...]:
    """The stories of a set of signatures (a fresh :class:`StoryIndex`)."""
    index = StoryIndex(window)
    index.add(list(items))
    return index.stories()


# --- the tree's stories (what the run and the targets read) ---------------------------


def feed_ranks(feeds: Sequence[FeedSpec]) -> dict[str, int]:
    """Each feed's rank for leading a story (lower leads): its ``priority:`` (higher
    first), then its place in the tree."""
    ordered = sorted(range(len(feeds)), key=lambda i: (-feeds[i].priority, i))
    return {feeds[i].key: rank for rank, i in enumerate(ordered)}


def stories_of(
    links: Iterable[tuple[Key, Key, str]],
    times: Mapping[Key, datetime],
    ranks: Mapping[str, int],
) -> dict[Key, Story]:
    """The stories of more than one member, by member: the connected components of the
    ``links`` (between live items), each led by its first member by (rank of its feed, time,
    key). ``times`` holds every linked item's time; a feed missing from ``ranks`` ranks last."""
    last = len(ranks)
    sigs = {k: Signature(k, t, ranks.get(k[0], last), (), "", (), b"") for k, t in times.items()}
    kept = [Link(a, b, why) for a, b, why in links if a in sigs and b in sigs]  # type: ignore[arg-type]
    members = {k for link in kept for k in (link.a, link.b)}
    out: dict[Key, Story] = {}
    for story in group({k: sigs[k] for k in members}, kept):
        for k in story.members:
            out[k] = story
    return out
