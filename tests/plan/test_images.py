"""The image planner (pure): order, what to download, the budget, what is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedsite._plan._images import (
    BACKOFF_CAP,
    after_failure,
    allot,
    backoff,
    newest_first,
    settled,
    to_fetch,
    unused,
)
from feedsite._records import ImageRefs, StoredImage
from feedsite.types import ImageFile

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def post(iid: str, hours_ago: float, *urls: str, feed: str = "f") -> ImageRefs:
    return ImageRefs(feed, iid, NOW - timedelta(hours=hours_ago), f"https://a.example/{iid}", urls)


def ok(url: str, size: int, digest: str | None = None) -> StoredImage:
    d = digest or url.rsplit("/", 1)[-1].ljust(20, "0")
    return StoredImage(
        url,
        "ok",
        digest=d,
        files=(ImageFile("main", f"{d[:2]}/{d}.webp", 10, 10, size),),
        size=size,
    )


def test_newest_first_is_independent_of_input_order() -> None:
    a, b, c = post("a", 1), post("b", 5), post("c", 1, feed="e")
    assert [p.item_id for p in newest_first([b, a, c])] == ["c", "a", "b"]
    assert newest_first([c, b, a]) == newest_first([a, b, c])


def test_to_fetch_new_due_failed_and_missing_files_in_order() -> None:
    posts = newest_first(
        [
            post("new", 1, "u/new", "u/failed-due"),
            post("old", 9, "u/failed-later", "u/ok", "u/lost"),
        ]
    )
    stored = {
        "u/failed-due": StoredImage("u/failed-due", "failed", failures=1, next_attempt=NOW),
        "u/failed-later": StoredImage(
            "u/failed-later", "failed", failures=3, next_attempt=NOW + timedelta(hours=1)
        ),
        "u/ok": ok("u/ok", 100),
        "u/lost": ok("u/lost", 100),
        "u/refused": StoredImage("u/refused", "refused"),
    }
    missing = frozenset({stored["u/lost"].files[0].path})
    got = [u for u, _p in to_fetch(posts, stored, missing, NOW, 10**9)]
    assert got == ["u/new", "u/failed-due", "u/lost"]


def test_to_fetch_never_retries_refused_and_stops_past_the_budget() -> None:
    posts = newest_first([post("a", 1, "u/big"), post("b", 2, "u/refused"), post("c", 3, "u/x")])
    stored = {"u/big": ok("u/big", 5000), "u/refused": StoredImage("u/refused", "refused")}
    assert to_fetch(posts, stored, frozenset(), NOW, 1000) == []
    assert [u for u, _ in to_fetch(posts, stored, frozenset(), NOW, 10_000)] == ["u/x"]


def test_over_budget_image_is_fetched_again_only_when_it_fits() -> None:
    row = StoredImage("u/o", "over_budget", digest="d" * 20, size=300)
    posts = [post("a", 1, "u/o")]
    assert to_fetch(posts, {"u/o": row}, frozenset(), NOW, 200) == []
    assert [u for u, _ in to_fetch(posts, {"u/o": row}, frozenset(), NOW, 300)] == ["u/o"]


def test_allot_keeps_the_newest_posts_and_cuts_at_the_first_that_does_not_fit() -> None:
    posts = newest_first(
        [
            post("new", 1, "u/a"),
            post("mid", 2, "u/big"),
            post("old", 3, "u/small"),  # would fit, but older than one that did not
        ]
    )
    stored = {u: ok(u, s) for u, s in (("u/a", 400), ("u/big", 700), ("u/small", 10))}
    got = allot(posts, stored, 1000)
    assert got.local == {"u/a"}
    assert got.over == {"u/big", "u/small"}
    assert got.total == 400


def test_allot_counts_a_shared_file_once() -> None:
    # Two URLs with the same bytes (same digest) share one file.
    same = "e" * 20
    stored = {"u/1": ok("u/1", 600, same), "u/2": ok("u/2", 600, same)}
    posts = newest_first([post("a", 1, "u/1"), post("b", 2, "u/2")])
    got = allot(posts, stored, 700)
    assert got.local == {"u/1", "u/2"} and got.total == 600


def test_settled_marks_over_budget_rows_without_files_but_keeps_their_size() -> None:
    stored = {"u/a": ok("u/a", 400), "u/b": ok("u/b", 700)}
    got = settled(stored, allot([post("a", 1, "u/a"), post("b", 2, "u/b")], stored, 500))
    assert set(got) == {"u/b"}
    assert got["u/b"].state == "over_budget" and got["u/b"].files == () and got["u/b"].size == 700


def test_unused_rows_are_those_no_live_post_uses() -> None:
    stored = {"u/a": ok("u/a", 1), "u/b": ok("u/b", 1)}
    assert unused(stored, [post("a", 1, "u/a")]) == ["u/b"]


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff(1) == timedelta(minutes=30)
    assert backoff(2) == timedelta(hours=1)
    assert backoff(40) == BACKOFF_CAP


@pytest.mark.parametrize("permanent", [True, False])
def test_after_failure_counts_and_schedules(permanent: bool) -> None:
    first = after_failure(None, "u", "h", "HTTP 404", NOW, permanent=permanent)
    again = after_failure(first, "u", "h", "HTTP 404", NOW, permanent=permanent)
    assert again.failures == 2 and again.error == "HTTP 404"
    if permanent:
        assert again.state == "refused" and again.next_attempt is None
    else:
        assert again.state == "failed" and again.next_attempt == NOW + backoff(2)


def test_retry_after_later_than_the_backoff_wins() -> None:
    later = NOW + timedelta(days=1)
    row = after_failure(None, "u", "h", "HTTP 503", NOW, permanent=False, retry_after=later)
    assert row.next_attempt == later
