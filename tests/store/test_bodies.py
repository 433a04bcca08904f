"""Item bodies (issue #16, compact state): each distinct text once, compressed, in table
``bodies``; a body goes with its item, its tombstone or its replacement (no orphan rows)."""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsite._store import State
from feedsite._store._bodies import pack, unpack
from feedsite.errors import StateError
from tests.store.records import FEED, OTHER, data, intent

TEXT = st.none() | st.text(max_size=300) | st.sampled_from(["<p>同一段</p>", ""])


@given(st.tuples(TEXT, TEXT, TEXT, TEXT))
def test_pack_round_trips(bodies: tuple[str | None, str | None, str | None, str | None]) -> None:
    assert unpack(pack(bodies)) == bodies


def test_a_repeated_text_is_stored_once() -> None:
    body = "<p>" + "国产大模型发布新版本，性能提升。" * 40 + "</p>"
    once = pack((body, None, None, None))
    four = pack((body, body, body, body))
    assert len(four) - len(once) < 8  # only the references differ
    assert len(once) < len(body.encode()) / 2  # and compressed


def bodies_rows(state: State) -> int:
    return int(state._query("SELECT count(*) FROM bodies")[0][0])


def test_a_body_goes_with_its_replacement_tombstone_or_item(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(2), intent(3, feed=OTHER)])
    assert bodies_rows(state) == 3
    with state.transaction() as tx:  # a new version of item 1: its old body goes
        state.record_items(tx, [intent(1, body="<p>新</p>")])
    assert bodies_rows(state) == 3
    assert state.bodies([(FEED, "i1")]) == {(FEED, "i1"): "<p>新</p>"}
    assert state.item_data([(FEED, "i1")]) == {(FEED, "i1"): data(1, "<p>新</p>")}
    with state.transaction() as tx:  # a tombstone keeps no body
        state.record_items(tx, [intent(2, "pruned", with_data=False)])
    assert bodies_rows(state) == 2
    assert state.bodies([(FEED, "i2")]) == {(FEED, "i2"): ""}
    with state.transaction() as tx:  # a forgotten item, a forgotten feed
        state.forget_items(tx, [(FEED, "i1")])
        state.forget_feeds(tx, [OTHER])
    assert bodies_rows(state) == 0


def test_a_damaged_body_names_the_item(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1)])
    state._conn.execute("UPDATE bodies SET data = ?", (b"\x01" + zlib.compress(b"")[:3],))
    with pytest.raises(StateError, match=r"item 'i1' of feed .*damaged"):
        state.item_data([(FEED, "i1")])


def test_a_cleaned_copy_of_a_long_body_is_stored_as_its_changes() -> None:
    """zlib sees 32 KB back: the cleaned copy of a longer body was stored a second time."""
    rng = random.Random(16)
    words = "国产大模型发布新版本性能提升的一是了在人有我他这个们中来上为和地到以说时要就出"
    body = "".join(
        f'<p>{"".join(rng.choices(words, k=300))}<img src="/i/{n}.png"></p>' for n in range(100)
    )
    clean = body.replace('.png">', '.png" referrerpolicy="no-referrer">')
    alone = pack((body, None, None, None))
    both = pack((body, None, None, clean))
    assert unpack(both) == (body, None, None, clean)
    assert len(both) - len(alone) < 1000  # the 100 changed tags, not 90 KB again


PIECES = st.lists(st.sampled_from(["<", "p>", "<p>", "</p>", "<img a>", "文字", "x", "&amp;"]))


@given(PIECES, PIECES, TEXT)
def test_a_delta_round_trips(base: list[str], clean: list[str], summary: str | None) -> None:
    from feedsite._store._bodies import _delta, _text

    bodies = ("".join(base) or None, summary, None, "".join(clean))
    assert unpack(pack(bodies)) == bodies
    # Short bases are not delta-coded by pack (zlib sees them): the delta itself, directly.
    ops = _delta("".join(base), "".join(clean))
    if ops is not None:
        assert _text(["".join(base)], [0, *ops]) == "".join(clean)


def test_a_short_body_is_left_to_zlib() -> None:
    """Below ``_DELTA_FROM`` the cleaned copy is stored as text: zlib finds its repeats."""
    import json
    import zlib

    from feedsite._store._bodies import _DELTA_FROM

    body = "<p>短文</p><img src=/a.png>" * 10
    clean = body.replace("<img src=/a.png>", '<img src="/a.png">')
    _texts, refs = json.loads(zlib.decompress(pack((body, None, None, clean))[1:]))
    assert refs == [0, None, None, 1] and len(body) < _DELTA_FROM
