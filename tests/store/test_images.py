"""The images' tables: rows round-trip, placeholders, each live post's images."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from feedsite._records import StoredImage
from feedsite._store import State
from feedsite.types import ImageFile

from .records import FEED, T0, intent


def test_image_rows_round_trip_and_are_forgotten(state: State) -> None:
    ok = StoredImage(
        "https://i.example/a.jpg",
        "ok",
        digest="ab" * 32,
        files=(
            ImageFile("main", "ab/abab.webp", 1280, 720, 9000),
            ImageFile("thumb", "ab/abab-t.webp", 480, 300, 2000),
        ),
        size=11000,
        host="i.example",
        referer="https://weibo.com/",
    )
    failed = StoredImage(
        "https://i.example/b.jpg",
        "failed",
        host="i.example",
        error="HTTP 404",
        failures=2,
        next_attempt=T0 + timedelta(hours=1),
    )
    with state.transaction() as tx:
        state.record_images(tx, [ok, failed])
    assert state.images() == {ok.url: ok, failed.url: failed}
    with state.transaction() as tx:
        state.record_images(tx, [replace(failed, state="refused", next_attempt=None)])
        state.forget_images(tx, [ok.url])
    assert list(state.images()) == [failed.url]
    assert state.images()[failed.url].state == "refused"


def test_placeholders_of_every_host(state: State) -> None:
    with state.transaction() as tx:
        state.record_placeholders(tx, {"a.example": frozenset({"d1", "d2"}), "b.example": {"d1"}})
        state.record_placeholders(tx, {"a.example": {"d1"}})
    assert state.image_placeholders() == frozenset({"d1", "d2"})


def test_live_posts_images_and_rows_of_older_versions(state: State) -> None:
    new = intent(1, body='<img src="https://i.example/1.jpg">')
    new = replace(new, data=replace(new.data, image_urls=("https://i.example/1.jpg",)))
    old = intent(2)  # stored without image_urls (an older version's row)
    seen = replace(intent(3), status="seen")
    with state.transaction() as tx:
        state.record_items(tx, [new, old, seen])
    refs, unknown = state.live_image_refs()
    assert [(r.item_id, r.urls, r.rank) for r in refs] == [
        ("i1", ("https://i.example/1.jpg",), new.date)
    ]
    assert [(r.feed_key, r.item_id, r.urls) for r in unknown] == [(FEED, "i2", ())]
    with state.transaction() as tx:
        state.record_image_urls(tx, {(FEED, "i2"): ()})
    refs, unknown = state.live_image_refs()
    assert {r.item_id for r in refs} == {"i1", "i2"} and unknown == []
    # A pruned item loses its images with its body.
    with state.transaction() as tx:
        state.record_items(tx, [replace(new, status="pruned", data=None)])
    assert state.item_data([(FEED, "i1")]) == {} or all(
        d.image_urls is None for d in state.item_data([(FEED, "i1")]).values()
    )
