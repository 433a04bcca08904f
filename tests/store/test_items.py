"""The items table: what a run records about items is what the next run reads back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from feedsite._store import State
from tests.store.records import FEED, OTHER, T0, data, intent


def test_a_seen_only_items_new_date_is_stored_once(state: State) -> None:
    """issue #11: an item that is only ``seen`` (not posted) and changes its date got the same
    intent on every run, because the state kept its old date and hash (the upsert without
    data stored only status and position). Now the run that sees the change stores it, so
    the next run reads back what it would decide, and has nothing to record."""
    with state.transaction() as tx:
        state.record_items(tx, [intent(0), intent(1, "seen", with_data=False)])
    moved = T0 - timedelta(days=3)
    with state.transaction() as tx:
        state.record_items(tx, [intent(1, "seen", with_data=False, date=moved, chash="h1b")])

    (live, seen) = sorted(state.items()[FEED], key=lambda i: i.seq)
    assert (live.status, seen.status) == ("live", "seen")
    assert (seen.date, seen.content_hash) == (moved, "h1b")
    assert seen.first_seen == T0 - timedelta(hours=1)


def test_an_update_without_data_keeps_the_data_and_first_seen(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1)])
    later = replace(intent(1, "seen", with_data=False), seq=7, first_seen=T0)
    with state.transaction() as tx:
        state.record_items(tx, [later])
    (item,) = state.items()[FEED]
    assert (item.status, item.seq, item.first_seen) == ("seen", 7, T0 - timedelta(hours=1))
    assert state.item_data([(FEED, "i1")]) == {(FEED, "i1"): data(1)}


def test_items_round_trip(state: State) -> None:
    intents = [intent(1), intent(2, "seen", with_data=False), intent(3, feed=OTHER)]
    with state.transaction() as tx:
        state.record_items(tx, intents)
    items = state.items()
    assert sorted(items) == sorted([FEED, OTHER])
    assert sorted(items[FEED], key=lambda i: i.seq) == state.items_of(FEED)
    for i in intents:
        (got,) = [s for s in items[i.feed_key] if s.item_id == i.item_id]
        assert (got.status, got.first_seen, got.seq, got.date, got.content_hash) == (
            i.status,
            i.first_seen,
            i.seq,
            i.date,
            i.content_hash,
        )
        assert got.first_seen.tzinfo is not None
        assert got.clean_key == ("ck1" if i.data else "")
    assert state.items_of("nothing") == []


def test_item_data_and_bodies_read_many_items_at_once(state: State) -> None:
    intents = [
        intent(n, body=f"<p>{n}</p>", images=(f"https://e.org/{n}.png",)) for n in range(1200)
    ]
    with state.transaction() as tx:
        state.record_items(tx, [*intents, intent(5000, "seen", with_data=False)])
    keys = [(FEED, f"i{n}") for n in range(1200)] + [(FEED, "i5000"), (OTHER, "i1"), (FEED, "x")]
    got = state.item_data(keys)
    assert got == {(i.feed_key, i.item_id): i.data for i in intents}
    bodies = state.bodies(keys)
    assert bodies[(FEED, "i1100")] == "<p>1100</p>"
    assert bodies[(FEED, "i5000")] == ""  # stored without a body
    assert len(bodies) == 1201


def test_items_by_id_finds_it_in_every_feed(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(1, "pruned", feed=OTHER), intent(2)])
    assert [(i.feed_key, i.status) for i in state.items_by_id("i1")] == [
        (OTHER, "pruned"),
        (FEED, "live"),
    ]
    assert state.items_by_id("nope") == []


def test_tombstones_keep_no_bodies(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(2), intent(3)])
    with state.transaction() as tx:
        state.record_items(tx, [intent(1, "pruned"), intent(2, "removed", with_data=False)])
    assert state.bodies([(FEED, "i1"), (FEED, "i2"), (FEED, "i3")]) == {
        (FEED, "i1"): "",
        (FEED, "i2"): "",
        (FEED, "i3"): "<p>body</p>",
    }
    pruned = state.item_data([(FEED, "i1")])[(FEED, "i1")]
    assert pruned.item.title == "标题 1"  # the metadata stays
    assert (pruned.item.content_html, pruned.item.summary_html, pruned.body_clean) == (
        None,
        None,
        "",
    )


def test_set_item_status(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(2)])
    state.set_item_status(FEED, "i1", "removed")
    state.set_item_status(FEED, "i2", "seen")
    assert {i.item_id: i.status for i in state.items_of(FEED)} == {"i1": "removed", "i2": "seen"}
    assert state.bodies([(FEED, "i1"), (FEED, "i2")]) == {
        (FEED, "i1"): "",
        (FEED, "i2"): "<p>body</p>",
    }


def test_forget_items(state: State) -> None:
    with state.transaction() as tx:
        state.record_items(tx, [intent(1), intent(2), intent(1, feed=OTHER)])
    with state.transaction() as tx:
        state.forget_items(tx, [(FEED, "i1")])
    assert [i.item_id for i in state.items_of(FEED)] == ["i2"]
    assert [i.item_id for i in state.items_of(OTHER)] == ["i1"]


def test_tags_enclosures_and_authors_round_trip(state: State) -> None:
    """issue #17: what the feed says besides its text is stored with the item and read back
    whole, for posts (``item_data``) and for the site (``live_items``); a tombstone drops it."""
    from feedsite.types import Enclosure, Person, Tag

    tags = (Tag("科技", "https://e.org/c", "科技 Tech"), Tag("AI"), Tag('a"b<', None, None))
    enclosures = (
        Enclosure("https://e.org/a.mp3", "audio/mpeg", 123456, 3600, None, "第1期", "audio"),
        Enclosure(
            "https://e.org/v.mp4", None, None, None, "https://e.org/t.jpg", None, None, "media"
        ),
    )
    authors = (Person("编辑", "ed@e.org", None), Person(None, None, "https://e.org/ed"))
    base = data(1)
    rich = replace(base, item=replace(base.item, tags=tags, enclosures=enclosures, authors=authors))
    only_tags = replace(base, item=replace(data(2).item, tags=tags[:1]))
    with state.transaction() as tx:
        state.record_items(
            tx, [replace(intent(1), data=rich), replace(intent(2), data=only_tags), intent(3)]
        )
    got = state.item_data([(FEED, "i1"), (FEED, "i2"), (FEED, "i3")])
    assert got[(FEED, "i1")] == rich
    assert got[(FEED, "i2")].item.tags == tags[:1] and got[(FEED, "i2")].item.enclosures == ()
    assert got[(FEED, "i3")] == data(3)
    live = {i.item_id: i for i in state.live_items([FEED], "v")}
    assert (live["i1"].tags, live["i1"].enclosures) == (tags, enclosures)
    assert (live["i3"].tags, live["i3"].enclosures) == ((), ())
    with state.transaction() as tx:
        state.record_items(tx, [intent(1, "pruned")])
    assert state.item_data([(FEED, "i1")])[(FEED, "i1")].item.tags == ()
