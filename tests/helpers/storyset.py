"""A labelled set of items for story clusters (issue #15), made from ../shared/corpora.

Deterministic (seeded) and fast (the corpora are parsed once per process). Real items of
``realworld/feeds`` and ``rsshub-zh`` are each the *original* of a story; some are copied
into other "feeds" with the changes syndication makes (a site tag or suffix in the title,
punctuation and full-width changes, a few Traditional characters, a truncated or
re-paragraphed body, an image caption, a tracking-parameter or another site's URL, a delay of
5–40 h). Mixed in, distinct items that look alike: daily digests with one title and a new
text each day, and titles that differ from a real one only in a number (with another text).
Labels say which items are one story.

The article texts belong to their publishers: test data only (../shared/corpora/README.md).
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsite._clean._rewrite import plain_text
from feedsite._parse import parse_feed
from feedsite._plan._stories import StoryItem, canonical_url, title_key
from feedsite.types import ParsedItem

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
REALWORLD = CORPORA / "realworld" / "feeds"
RSSHUB_ZH = CORPORA / "rsshub-zh"
T0 = datetime(2026, 11, 20, tzinfo=UTC)

Key = tuple[str, str]

#: Simplified → Traditional for the copies (some are outside the normaliser's fold on
#: purpose: the body test must carry those).
_TRAD = dict(
    zip(
        "这个们来时会说对发国经与为学后开关长体点现实动应机电车网业产资讯报价场数据区华东术万亿间问题"
        "头样从无还进过边里让给买卖钱汇墙兰击弹丽",
        "這個們來時會說對發國經與為學後開關長體點現實動應機電車網業產資訊報價場數據區華東術萬億間問題"
        "頭樣從無還進過邊裡讓給買賣錢匯牆蘭擊彈麗",
        strict=True,
    )
)
_ZH_TAGS = ("【快讯】", "【独家】", "[视频]", "【图】", "〖热点〗")
_ZH_SITES = (" | 36氪", " - IT之家", " _ 新浪科技", " — cnBeta", "｜观察者网", " - 网易科技")
_EN_TAGS = ("[Video] ", "[Updated] ", "【News】")
_EN_SITES = (" | The Verge", " - Hacker News", " — Ars Technica", " | Slashdot")
_COPY_FEEDS = ("cnbeta", "ithome", "36kr", "guancha", "sina", "netease", "hn", "slashdot")
_CAPTIONS = ("图片来源：视觉中国", "（图：IC photo）", "Image: Getty Images", "题图来自 Unsplash")
_FOOTERS = (
    "本文来自微信公众号，经授权转载。",
    "Read the full story on our site.",
    "责任编辑：小编",
)
_DIGESTS = (
    ("digest-36kr", "36氪早报"),
    ("digest-ithome", "IT之家每日科技新闻简报"),
    ("digest-hn", "Hacker News Daily Digest"),
    ("digest-sspai", "少数派 · 派早报"),
)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One generated item, its story label and what was done to it."""

    item: StoryItem
    label: int
    #: "original", or the changes made ("copy: title-suffix, tracking-url, …"), or "digest"…
    note: str


@dataclass(frozen=True, slots=True)
class _Source:
    feed: str
    title: str
    link: str | None
    text: str
    zh: bool


_STYLE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)


def _text(item: ParsedItem) -> str:
    """The body's text as feedsite's callers give it (cleaned bodies have no style or script)."""
    return plain_text(_STYLE.sub("", item.content_html or item.summary_html or "")).strip()


@functools.cache
def sources() -> tuple[_Source, ...]:
    """Every usable real item (a title and a body), each title and URL once, in a fixed order."""
    paths = sorted(RSSHUB_ZH.glob("*.xml")) + sorted(REALWORLD.iterdir())
    out: list[_Source] = []
    seen_titles: set[str] = set()
    seen_urls: set[str] = set()
    for path in paths:
        try:
            feed = parse_feed(path.read_bytes())
        except Exception:  # a few real-world feeds are not feeds at all
            continue
        for item in feed.items:
            text = _text(item)
            key = title_key(item.title)
            url = canonical_url(item.link)
            if len(key) < 4 or len(text) < 30 or key in seen_titles or (url and url in seen_urls):
                continue
            seen_titles.add(key)
            if url:
                seen_urls.add(url)
            zh = re.search("[\u4e00-\u9fff]", item.title) is not None
            out.append(_Source(path.name, item.title, item.link, text, zh))
    return tuple(out)


def _fullwidth(text: str, rng: random.Random) -> str:
    """Swap some ASCII for full-width forms and some punctuation for its other form."""
    swaps = {",": "，", "!": "！", "?": "？", ":": "：", "，": ",", "！": "!", "：": ":", " ": ""}
    out = []
    for ch in text:
        if ch in swaps and rng.random() < 0.7:
            out.append(swaps[ch])
        elif "!" <= ch <= "~" and rng.random() < 0.3:
            out.append(chr(ord(ch) + 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def _traditional(text: str, rng: random.Random) -> str:
    return "".join(_TRAD.get(ch, ch) if rng.random() < 0.8 else ch for ch in text)


def _tracking(link: str, rng: random.Random) -> str:
    base, _, frag = link.partition("#")
    sep = "&" if "?" in base else "?"
    extra = rng.choice(
        ["utm_source=rss&utm_medium=feed", "spm=a2c4e.11153940", "from=timeline", "fbclid=IwAR0x"]
    )
    if rng.random() < 0.5:
        base = base.replace("https://", "http://", 1)
    return f"{base}{sep}{extra}" + (f"#{frag}" if frag else "#comments")


def _copy(src: _Source, rng: random.Random, n: int, time: datetime) -> tuple[StoryItem, str]:
    changes: list[str] = []
    title = src.title
    if rng.random() < 0.5:
        if rng.random() < 0.5:
            title = rng.choice(_ZH_TAGS if src.zh else _EN_TAGS) + title
            changes.append("title-tag")
        else:
            title += rng.choice(_ZH_SITES if src.zh else _EN_SITES)
            changes.append("title-site")
    if rng.random() < 0.4:
        title = _fullwidth(title, rng)
        changes.append("punctuation")
    text = src.text
    if src.zh and rng.random() < 0.3:
        title, text = _traditional(title, rng), _traditional(text, rng)
        changes.append("traditional")
    r = rng.random()
    if r < 0.3:
        text = text[: max(40, int(len(text) * rng.uniform(0.4, 0.8)))]
        changes.append("truncated")
    elif r < 0.6:
        text = re.sub(r"\s*\n\s*", rng.choice(["", " ", "\n\n"]), text)
        text = re.sub(r"([。！？.!?])\s*", "\\1\n", text) if rng.random() < 0.5 else text
        changes.append("reparagraphed")
    if rng.random() < 0.3:
        text = rng.choice(_CAPTIONS) + "\n" + text
        changes.append("image-caption")
    if rng.random() < 0.3:
        text += "\n" + rng.choice(_FOOTERS)
        changes.append("footer")
    link = src.link
    r = rng.random()
    if link and r < 0.4:
        link = _tracking(link, rng)
        changes.append("tracking-url")
    elif r < 0.8:
        feed = rng.choice(_COPY_FEEDS)
        link = f"https://www.{feed}.example/articles/{rng.randrange(10**8)}.htm"
        changes.append("other-url")
    feed = f"{rng.choice(_COPY_FEEDS)}-{n}"
    guid = link if rng.random() < 0.5 else f"tag:{feed},{rng.randrange(10**9)}"
    item = StoryItem((feed, f"c{n}"), link, guid, title, text, time, priority=1 + n % 5)
    return item, "copy: " + ", ".join(changes or ["verbatim"])


def _digest(src: list[_Source], title: str, day: int) -> str:
    lines = [f"{title}｜{(T0 + timedelta(days=day)):%m月%d日}，今天的要闻："]
    lines += [f"{i + 1}. {s.title}：{s.text[:120]}" for i, s in enumerate(src)]
    return "\n".join(lines)


def _renumber(title: str, rng: random.Random) -> str | None:
    numbers = list(re.finditer(r"\d+", title))
    if not numbers:
        return None
    m = rng.choice(numbers)
    value = int(m.group()) + rng.choice([1, 2, -1]) if int(m.group()) > 1 else 2
    return title[: m.start()] + str(value) + title[m.end() :]


def build(seed: int = 15, stories: int = 400, english: float = 0.6) -> tuple[Labelled, ...]:
    """The labelled set: ``stories`` originals (every Chinese one, then English up to the
    share), their copies, daily digests and renumbered lookalikes."""
    rng = random.Random(seed)
    pool = list(sources())
    zh = [s for s in pool if s.zh]
    en = [s for s in pool if not s.zh]
    rng.shuffle(en)
    n_en = min(len(en) // 2, int(stories * english))
    originals = zh + en[:n_en]
    spare = en[n_en:]  # bodies for lookalikes: used by no original
    out: list[Labelled] = []
    n = 0
    for label, src in enumerate(originals):
        time = T0 + timedelta(hours=rng.uniform(0, 24 * 7))
        item = StoryItem((src.feed, f"o{label}"), src.link, src.link, src.title, src.text, time)
        out.append(Labelled(item, label, "original"))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            n += 1
            delay = timedelta(hours=rng.uniform(5, 40))
            copy, note = _copy(src, rng, n, time + delay)
            out.append(Labelled(copy, label, note))
    label = len(originals)
    for feed, title in _DIGESTS:
        for day in range(6):
            parts = [spare.pop() for _ in range(3)]
            time = T0 + timedelta(days=day, hours=7)
            link = f"https://{feed}.example/daily/{day}"
            item = StoryItem((feed, f"d{day}"), link, link, title, _digest(parts, title, day), time)
            out.append(Labelled(item, label, "digest (same title, next day)"))
            label += 1
    for src in originals:
        if not spare:
            break
        title = _renumber(src.title, rng)
        if title is None or rng.random() < 0.5:
            continue
        other = spare.pop()
        time = T0 + timedelta(hours=rng.uniform(0, 24 * 7))
        link = f"https://{src.feed}.example/{label}"
        item = StoryItem((src.feed, f"r{label}"), link, None, title, other.text, time)
        out.append(Labelled(item, label, f"lookalike of {src.title!r} (number changed)"))
        label += 1
    return tuple(out)


def pairs(groups: dict[Key, int]) -> set[tuple[Key, Key]]:
    """The unordered pairs (a < b) of keys that share a group."""
    by: dict[int, list[Key]] = {}
    for key, g in groups.items():
        by.setdefault(g, []).append(key)
    out = set()
    for keys in by.values():
        keys.sort()
        out.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])
    return out


@dataclass(frozen=True, slots=True)
class Score:
    """Pairwise precision and recall, with the wrong pairs."""

    precision: float
    recall: float
    true_pairs: int
    found_pairs: int
    false_merges: tuple[tuple[Key, Key], ...]
    misses: tuple[tuple[Key, Key], ...]


def score(labelled: tuple[Labelled, ...], found: dict[Key, str]) -> Score:
    """Compare found story ids (per key) with the labels."""
    truth = pairs({x.item.key: x.label for x in labelled})
    ids = {story: n for n, story in enumerate(sorted(set(found.values())))}
    got = pairs({k: ids[v] for k, v in found.items()})
    tp = len(truth & got)
    return Score(
        precision=tp / len(got) if got else 1.0,
        recall=tp / len(truth) if truth else 1.0,
        true_pairs=len(truth),
        found_pairs=len(got),
        false_merges=tuple(sorted(got - truth)),
        misses=tuple(sorted(truth - got)),
    )


def shifted(item: StoryItem, hours: float) -> StoryItem:
    """The item, later."""
    return replace(item, time=item.time + timedelta(hours=hours))
