"""The native site's search index (``_targets/site/_search.py``) and its browser tokenizer."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsite._targets.site import _render
from feedsite._targets.site import _search as search

# -- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rust 1.80 released", {"rust", "80", "released"}),
        ("人工智能", {"人工", "工智", "智能"}),
        ("发布iPhone16了", {"发布", "iphone16", "了"}),
        ("猫。狗", {"猫", "狗"}),  # lone characters stand for themselves
        ("ＡＢＣ　ｄｅｆ", {"abc", "def"}),  # NFKC: full-width forms
        ("a b_c", set()),  # one-letter words are dropped; "_" separates
        ("東京タワー", {"東京", "京タ", "タワ", "ワー"}),
        ("Café déjà-vu", {"café", "déjà", "vu"}),
    ],
)
def test_tokens(text: str, expected: set[str]) -> None:
    assert search.tokens(text) == expected


def test_shard_of_is_stable_fnv1a() -> None:
    # FNV-1a of "a" (0x61) is 0xe40c292c; of "" the offset basis.
    assert search.shard_of("a", 2**32 - 1) == 0xE40C292C % (2**32 - 1)
    assert search.shard_of("", 1000) == 0x811C9DC5 % 1000
    assert {search.shard_of("人工", 7) for _ in range(3)} == {search.shard_of("人工", 7)}


# -- the same rules in the browser -----------------------------------------------------------

_NODE_RUNNER = """
const lines = require("fs").readFileSync(0, "utf8").split("\\n").filter(Boolean);
%s
const out = lines.map((l) => {
  const text = JSON.parse(l);
  return tokens(text).map((t) => [t, shardOf(t, 97)]);
});
process.stdout.write(JSON.stringify(out));
"""

_ALPHABET = st.sampled_from(
    list("abcXYZ019 _-.,。、！（）") + list("人工智能东京タワー한국어") + list("ＡＢＣ１２éüß")
)


def _js_tokenizer() -> str:
    source = next(p for p in _render.STATIC_DIR.iterdir() if p.name == "search.js").read_text(
        encoding="utf-8"
    )
    begin = source.index("// tokens: begin")
    end = source.index("// tokens: end")
    return source[begin:end]


def _node_tokens(texts: list[str]) -> list[set[tuple[str, int]]]:
    node = shutil.which("node")
    assert node, "node is needed to check the browser's tokenizer (CI installs it)"
    done = subprocess.run(
        [node, "-e", _NODE_RUNNER % _js_tokenizer()],
        input="\n".join(json.dumps(t) for t in texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [{(t, s) for t, s in row} for row in json.loads(done.stdout)]


@pytest.mark.hexo  # runs static/search.js under node
@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(_ALPHABET, max_size=25), min_size=20, max_size=20))
def test_browser_tokenizer_matches_the_builder(texts: list[str]) -> None:
    """A query tokenised in the browser finds the shard and token the builder wrote."""
    got = _node_tokens(texts)
    for text, js in zip(texts, got, strict=True):
        assert js == {(t, search.shard_of(t, 97)) for t in search.tokens(text)}, text


# -- planning updates ------------------------------------------------------------------------


def seg(id_: str, docs: list[tuple[str, str]], dead: set[int] = frozenset()) -> search.Segment:  # type: ignore[assignment]
    return search.Segment(id_, 4, tuple(docs), frozenset(dead))


LIVE = [(f"u{i:03d}", f"k{i}") for i in range(100)]


def test_no_index_means_everything_new() -> None:
    plan = search.plan_index(LIVE, [])
    assert plan.rebuild and plan.changed and plan.new == tuple(u for u, _ in LIVE)


def test_unchanged_index_plans_nothing() -> None:
    base = seg("a", LIVE)
    plan = search.plan_index(LIVE, [base])
    assert not plan.changed and plan.keep == (base,) and plan.new == ()


def test_new_posts_go_into_a_new_segment() -> None:
    live = [("n1", "x"), ("n2", "y"), *LIVE]
    plan = search.plan_index(live, [seg("a", LIVE)])
    assert plan.changed and not plan.rebuild
    assert plan.new == ("n1", "n2") and plan.keep[0].dead == frozenset()


def test_gone_and_changed_posts_are_dead() -> None:
    live = [(u, "changed" if u == "u005" else k) for u, k in LIVE if u != "u007"]
    plan = search.plan_index(live, [seg("a", LIVE)])
    assert plan.keep[0].dead == {5, 7}
    assert plan.new == ("u005",)


def test_a_post_is_indexed_once_even_if_two_segments_hold_it() -> None:
    newer = seg("b", [("u001", "k1")])
    plan = search.plan_index(LIVE, [newer, seg("a", LIVE)])
    assert plan.new == ()
    assert plan.keep[0].dead == frozenset() and plan.keep[1].dead == {1}


def test_too_many_segments_merge_the_small_ones() -> None:
    smalls = [seg(f"s{i}", [(f"n{i}", "k")]) for i in range(search.MAX_SEGMENTS - 1)]
    live = [("new", "k"), *[(f"n{i}", "k") for i in range(search.MAX_SEGMENTS - 1)], *LIVE]
    plan = search.plan_index(live, [*smalls, seg("a", LIVE)])
    assert not plan.rebuild and [s.id for s in plan.keep] == ["a"]
    assert set(plan.new) == {"new", *(f"n{i}" for i in range(search.MAX_SEGMENTS - 1))}


def test_large_churn_rebuilds() -> None:
    live = LIVE[:60]  # 40 of 100 gone
    plan = search.plan_index(live, [seg("a", LIVE)])
    assert plan.rebuild and plan.keep == () and plan.new == tuple(u for u, _ in live)


# -- segment files ------------------------------------------------------------------------------


def _doc(uid: str, title: str) -> search.SearchDoc:
    return search.SearchDoc(
        uid, "k" + uid, f"posts/{uid}.html", title, "站 › feed", "2026-01-02", ""
    )


def _query(files: dict[str, bytes], seg_id: str, shards: int, query: str) -> list[str]:
    """What the browser does: intersect the postings of every token; page paths."""
    hits: set[int] | None = None
    for token in search.tokens(query):
        shard = json.loads(files[f"searchindex/{seg_id}/s{search.shard_of(token, shards)}.json"])
        numbers, n = [], 0
        for d in shard.get(token, []):
            n += d
            numbers.append(n)
        hits = set(numbers) if hits is None else hits & set(numbers)
    chunk = json.loads(files[f"searchindex/{seg_id}/d0.json"])
    return [chunk[n][0] for n in sorted(hits or ())]


def test_segment_round_trip_and_query() -> None:
    docs = [_doc("a", "人工智能的未来"), _doc("b", "Rust compiler news"), _doc("c", "智能手机")]
    texts = ["机器学习 deep learning", "borrow checker", "手机评测"]
    seg_id, files = search.build_segment(docs, iter(texts))
    shards = sum(1 for p in files if p.startswith(f"searchindex/{seg_id}/s"))
    assert _query(files, seg_id, shards, "智能") == ["posts/a.html", "posts/c.html"]
    assert _query(files, seg_id, shards, "人工智能") == ["posts/a.html"]
    assert _query(files, seg_id, shards, "Borrow") == ["posts/b.html"]
    assert _query(files, seg_id, shards, "learning 机器") == ["posts/a.html"]
    assert _query(files, seg_id, shards, "nothing") == []
    # Same posts, same bytes; meta and ids read back.
    assert search.build_segment(docs, iter(texts)) == (seg_id, files)
    segment = search.Segment(seg_id, shards, tuple((d.uid, d.key) for d in docs), frozenset({1}))
    published = {**files, search.META: search.meta_bytes([segment], "key")}
    assert search.read_segments(published, "key") == [segment]
    assert search.read_segments(published, "other settings") == []
    del published[f"searchindex/{seg_id}/ids.json"]
    assert search.read_segments(published, "key") == []


def test_large_segments_have_more_shards() -> None:
    docs = [_doc(f"{i:04d}", f"title {i}") for i in range(300)]
    texts = [" ".join(f"w{i}x{j}" for j in range(400)) for i in range(300)]
    seg_id, files = search.build_segment(docs, iter(texts))
    shards = [p for p in files if p.startswith(f"searchindex/{seg_id}/s")]
    assert len(shards) == -(-300 * 402 // search.SHARD_POSTINGS)
    assert len([p for p in files if "/d" in p]) == 1
