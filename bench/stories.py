"""Stories benchmark (issue #15): clustering cost against hashing the text alone, an
incremental add, and the precision and recall of the labelled set.

In one command:

* **items**: ``--items`` (200,000) synthesised, deterministically, from the real items of
  ``../shared/corpora`` (``tests/helpers/storyset.py`` reads them): variant ``v`` of a source
  shifts its CJK characters and tags its words (a distinct text of the same shape), every
  tenth item is a syndicated copy of an earlier one (a site tag, a tracking URL, a delay);
  times spread over 100 days;
* **hashing alone** (the baseline): ``shingle_hashes`` of every text (normalising,
  tokenising, CRC-32 of each token 3-gram);
* **clustering**: ``signature`` of every item (the same hashing, the MinHash sketch, the URL
  and title keys), added to a ``StoryIndex`` in runs of 1,000, then every story;
* **incremental**: 1,000 new items (a third of them copies) signed and added to the full
  index, and the story of each looked up;
* **quality**: pairwise precision and recall over the labelled set, with its errors.

Targets (the issue): clustering ≤ 2× hashing alone; the incremental add ≤ 0.5 s.

Usage::

    .venv/bin/python bench/stories.py                 # print the table
    .venv/bin/python bench/stories.py --write-docs    # and rewrite docs/benchmarks.md "Stories"
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import platform
import random
import re
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from _common import replace_section  # noqa: E402
from tests.helpers import storyset  # noqa: E402

from feedsite._plan._stories import (  # noqa: E402
    StoryIndex,
    StoryItem,
    cluster,
    match,
    shingle_hashes,
    signature,
)

DOCS = ROOT / "docs" / "benchmarks.md"
T0 = datetime(2026, 9, 1, tzinfo=UTC)
_WORD = re.compile(r"[A-Za-z]+")


def _tag(v: int) -> str:
    out = ""
    while True:
        v, r = divmod(v, 26)
        out += chr(97 + r)
        if not v:
            return out


def _variant(text: str, v: int) -> str:
    if v == 0:
        return text
    tag = _tag(v)
    text = _WORD.sub(lambda m: m.group() + tag, text)
    return "".join(
        chr(0x4E00 + (ord(c) - 0x4E00 + v * 7919) % 20902) if "\u4e00" <= c <= "\u9fff" else c
        for c in text
    )


def synthesise(count: int, seed: int = 1, start: int = 0) -> list[StoryItem]:
    """``count`` items: variants of the real items and, every tenth, a copy of an earlier one."""
    rng = random.Random(seed)
    src = storyset.sources()
    out: list[StoryItem] = []
    span = 100 * 24 * 3600
    for i in range(start, start + count):
        if i % 10 == 9 and out:
            o = out[rng.randrange(max(0, len(out) - 2000), len(out))]
            link = (o.link or "https://x.example/") + "?utm_source=rss"
            title = rng.choice(["【快讯】", "[Video] ", ""]) + o.title + rng.choice([" | 36氪", ""])
            delay = timedelta(hours=rng.uniform(5, 40))
            out.append(
                StoryItem((f"copy{i % 50}", f"i{i}"), link, None, title, o.text, o.time + delay, 1)
            )
            continue
        s = src[i % len(src)]
        v = i // len(src)
        link = f"https://{s.feed}.example/{i}"
        t = T0 + timedelta(seconds=span * i / 200_000)
        item = StoryItem(
            (s.feed, f"i{i}"), link, link, _variant(s.title, v), _variant(s.text, v), t, 0
        )
        out.append(item)
    return out


def _new_items(items: list[StoryItem], seed: int) -> list[StoryItem]:
    """1,000 items after ``items``; a third are copies of indexed items."""
    new = synthesise(1000, seed=seed, start=len(items) + 1000 * seed)
    for n in range(333):
        o = items[(n * 7919 + seed) % len(items)]
        key = (f"late{n % 7}", f"s{seed}n{n}")
        new[n] = replace(o, key=key, title="【快讯】" + o.title, priority=2)
    return new


def timed(fn: object) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def quality() -> tuple[list[str], float, float]:
    labelled = storyset.build()
    sigs = {x.item.key: signature(x.item) for x in labelled}
    stories = cluster(sigs.values())
    found = {k: s.id for s in stories for k in s.members}
    score = storyset.score(labelled, found)
    by_key = {x.item.key: x for x in labelled}
    whys = collections.Counter(link.why for s in stories for link in s.links)
    lines = [
        f"Labelled set (`tests/helpers/storyset.py`, seed 15): {len(labelled)} items,"
        f" {score.true_pairs} same-story pairs; found {score.found_pairs} pairs"
        f" (links by url {whys['url']}, title {whys['title']}, body {whys['body']}).",
        "",
        "| measure | value | target |",
        "|---|---:|---:|",
        f"| precision (pairs) | {score.precision:.4f} | ≥ 0.97 |",
        f"| recall (pairs) | {score.recall:.4f} | ≥ 0.90 |",
        "",
    ]

    def show(pair: tuple[tuple[str, str], tuple[str, str]]) -> str:
        a, b = (by_key[k] for k in pair)
        why = match(sigs[a.item.key], sigs[b.item.key])
        return (
            f"- {a.item.title[:50]!r} ({a.note[:60]}) / {b.item.title[:50]!r}"
            f" ({b.note[:60]}): test says {why}"
        )

    lines.append(f"False merges: {len(score.false_merges) or 'none'}.")
    lines += [show(p) for p in score.false_merges[:8]]
    lines += ["", f"Misses ({len(score.misses)}; the first 8):"]
    lines += [show(p) for p in score.misses[:8]]
    lines.append("")
    return lines, score.precision, score.recall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if not storyset.REALWORLD.is_dir():
        print(f"the realworld corpus is missing: {storyset.REALWORLD}", file=sys.stderr)
        return 2
    items = synthesise(args.items)
    batches = [_new_items(items, seed) for seed in range(2, 2 + args.repeat)]
    new = batches[0]
    hashing: list[float] = []
    clustering: list[float] = []
    index = StoryIndex()
    stories = 0
    for _ in range(args.repeat):
        hashing.append(timed(lambda: [shingle_hashes(x.text) for x in items]))
        index = StoryIndex()

        def run(index: StoryIndex = index) -> None:
            nonlocal stories
            for start in range(0, len(items), 1000):
                index.add([signature(x) for x in items[start : start + 1000]])
            stories = len(index.stories())

        clustering.append(timed(run))
    links_before = sum(1 for s in index.stories() for _ in s.links)
    added: list[int] = []

    def increment() -> None:
        links = index.add([signature(x) for x in new])
        added.append(len(links))
        for x in new:
            index.story_of(x.key)

    inc = timed(increment)
    state_inc, state_links, graph_s, in_state = in_the_state(index, batches)
    a, b = statistics.median(hashing), statistics.median(clustering)
    ratio = b / a
    ok_ratio, ok_inc = ratio <= 2.0, inc <= 0.5 and state_inc <= 0.5
    buckets = collections.Counter(len(v) for v in index._index.values())
    biggest = max(buckets)
    q_lines, precision, recall = quality()
    ok_q = precision >= 0.97 and recall >= 0.90
    body = "\n".join(
        [
            "## Stories",
            "",
            f"`bench/stories.py` on {platform.node() or 'this machine'} ({os.cpu_count()} cores),"
            f" Python {platform.python_version()}: {len(items):,} items synthesised from the"
            " corpora's real items (variants of each text, every tenth a syndicated copy),"
            f" medians of {args.repeat}, alternating; pure Python (hashlib, zlib).",
            "",
            "| step | seconds | per item | target |",
            "|---|---:|---:|---:|",
            f"| hashing alone (normalise, tokenise, CRC-32 of 3-grams) | {a:.2f}"
            f" | {a / len(items) * 1e6:.0f} µs | |",
            f"| clustering (signatures, index, {stories:,} stories) | {b:.2f}"
            f" | {b / len(items) * 1e6:.0f} µs | ≤ 2× hashing |",
            f"| adding 1,000 items to the {len(items):,}-item index ({added[0]} links) | {inc:.3f}"
            f" | {inc / 1000 * 1e6:.0f} µs | ≤ 0.5 s |",
            f"| the same through the state (sign, SQLite index lookups, compare, record and"
            f" commit; median of {len(batches)} batches in turn; {state_links} links)"
            f" | {state_inc:.3f}"
            f" | {state_inc / 1000 * 1e6:.0f} µs | ≤ 0.5 s |",
            f"| a run's stories of the whole tree (read every link, group; {in_state:,}"
            f" stories of more than one item) | {graph_s:.3f} | | |",
            "",
            f"clustering / hashing: **{ratio:.2f}×** (target ≤ 2×): "
            f"**{'pass' if ok_ratio else 'FAIL'}**; incremental add:"
            f" **{'pass' if ok_inc else 'FAIL'}**. Links in the index: {links_before:,};"
            f" index keys: {len(index._index):,}, the largest bucket holds {biggest} keys.",
            "",
            f"Raw seconds: hashing {', '.join(f'{x:.2f}' for x in hashing)};"
            f" clustering {', '.join(f'{x:.2f}' for x in clustering)}.",
            "",
            *q_lines,
        ]
    )
    print(body)
    if args.write_docs:
        replace_section(DOCS, "## Stories", body, "# Benchmarks\n")
    return 0 if ok_ratio and ok_inc and ok_q else 1


def in_the_state(
    index: StoryIndex, batches: list[list[StoryItem]]
) -> tuple[float, int, float, int]:
    """The index in a real state file (``_store._stories``): the median seconds to add each
    batch in turn the way a run does (sign, ``_run._stories.link_new``, ``record_stories``
    in a committed transaction), the links the first batch found, and the seconds of a run's
    grouping of the whole tree (``story_graph`` + ``stories_of``) with the number of
    stories of more than one item."""
    import tempfile

    from feedsite._plan._stories import stories_of
    from feedsite._run._stories import link_new
    from feedsite._store import State

    with tempfile.TemporaryDirectory() as tmp, State.open(Path(tmp) / "state.sqlite") as state:
        # the index before the in-memory step added the first batch
        later = {x.key for b in batches for x in b}
        links = {
            x
            for per in index._links.values()
            for x in per.values()
            if x.a not in later and x.b not in later
        }
        with state.transaction() as tx:
            rows = [s.to_row() for k, s in index.signatures.items() if k not in later]
            state.record_stories(tx, rows, [(x.a, x.b, x.why) for x in links])
        found: list[int] = []

        def add(new: list[StoryItem]) -> None:
            sigs = [signature(x) for x in new]
            got, _existing = link_new(state, sigs)
            with state.transaction() as tx:  # new items: nothing of theirs to drop
                state.record_stories(tx, [s.to_row() for s in sigs], got)
            found.append(len(got))

        seconds = statistics.median(timed(lambda b=b: add(b)) for b in batches)
        groups: list[int] = []

        def whole() -> None:
            graph = state.story_graph()
            times = {k: T0 + timedelta(microseconds=t) for k, t in graph.times.items()}
            groups.append(len({s.id for s in stories_of(graph.links, times, {}).values()}))

        graph_seconds = timed(whole)
        return seconds, found[0], graph_seconds, groups[0]


if __name__ == "__main__":
    raise SystemExit(main())
