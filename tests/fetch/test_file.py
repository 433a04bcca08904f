"""``file:`` sources: read from disk, always re-read, failures name the path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from feedsite._fetch import Fetched, FetchFailure
from feedsite.config import FetchConfig
from feedsite.types import Validators
from tests.helpers.feedserver import FeedServer, Response, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher


def test_file_is_read(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(rss("local"), encoding="utf-8")
    url = path.as_uri()

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.body == rss("local").encode()
    assert outcome.final_url == url
    assert outcome.validators == Validators()
    assert outcome.content_type is not None
    assert "xml" in outcome.content_type


def test_file_is_read_every_time_even_with_validators(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(rss("one"), encoding="utf-8")
    url = path.as_uri()

    first = fetch.one(url, validators={url: Validators(etag='"x"', last_modified="y")})
    path.write_text(rss("two"), encoding="utf-8")
    second = fetch.one(url, validators={url: Validators(etag='"x"', last_modified="y")})

    assert isinstance(first, Fetched)
    assert isinstance(second, Fetched)
    assert second.body == rss("two").encode()


def test_odd_file_names_are_decoded(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "新 闻 feed.xml"
    path.write_text(rss(), encoding="utf-8")

    outcome = fetch.one(path.as_uri())

    assert isinstance(outcome, Fetched)


def test_localhost_file_url(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(rss(), encoding="utf-8")

    outcome = fetch.one("file://localhost" + path.as_posix())

    assert isinstance(outcome, Fetched)


def test_missing_file_names_the_path(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "missing.xml"

    outcome = fetch.one(path.as_uri())

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{path}: no such file"
    assert outcome.failures == (f"{path}: no such file",)
    (attempt,) = outcome.attempts
    assert (attempt.url, attempt.status, attempt.verdict) == (str(path), None, "failover")


def test_directory_is_a_failure(tmp_path: Path, fetch: Fetcher) -> None:
    outcome = fetch.one(tmp_path.as_uri())

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{tmp_path}: is a directory"


def test_remote_file_url_is_a_failure(fetch: Fetcher) -> None:
    outcome = fetch.one("file://server.example/share/feed.xml")

    assert isinstance(outcome, FetchFailure)
    assert "remote host" in outcome.message


def test_file_over_max_body_is_a_failure(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "big.xml"
    path.write_text("<rss>" + "x" * 2000 + "</rss>", encoding="utf-8")

    outcome = fetch.one(path.as_uri(), settings=FetchConfig(max_body=1000))

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{path}: file larger than 1000 bytes"


def test_non_feed_file_fails_over(tmp_path: Path, feed_server: FeedServer, fetch: Fetcher) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html></html>", encoding="utf-8")
    good = feed_server.route("/feed", Response.rss(rss()))

    outcome = fetch.one(path.as_uri(), good)

    assert isinstance(outcome, Fetched)
    assert outcome.failures == (f"{path}: not a feed (text/html)",)
