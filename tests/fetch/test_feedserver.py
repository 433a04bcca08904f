"""The loopback test server itself (tests/helpers/feedserver.py)."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from feedsite._fetch import Fetched, NotModified
from tests.helpers.feedserver import FeedServer, RecordedRequest, Response, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher


def test_list_route_answers_in_turn_then_repeats(feed_server: FeedServer) -> None:
    url = feed_server.route("/x", [Response(503), Response(200, "ok")])

    with httpx.Client() as client:
        statuses = [client.get(url).status_code for _ in range(3)]

    assert statuses == [503, 200, 200]
    assert feed_server.hits("/x") == 3


def test_callable_route_sees_the_request(feed_server: FeedServer) -> None:
    def echo(request: RecordedRequest) -> Response:
        return Response(200, f"{request.path}?{request.query} {request.header('x-test')}")

    url = feed_server.route("/echo?a=1", echo)

    with httpx.Client() as client:
        response = client.get(url, headers={"X-Test": "yes"})

    assert response.text == "/echo?a=1 yes"


def test_unknown_path_is_404_and_recorded(feed_server: FeedServer) -> None:
    with httpx.Client() as client:
        assert client.get(feed_server.url("/nowhere")).status_code == 404

    assert [request.path for request in feed_server.requests] == ["/nowhere"]


def test_if_modified_since_later_than_last_modified_is_304(feed_server: FeedServer) -> None:
    url = feed_server.route(
        "/feed", Response.rss(rss(), last_modified="Tue, 15 Nov 1994 12:45:26 GMT")
    )

    with httpx.Client() as client:
        newer = client.get(url, headers={"If-Modified-Since": "Wed, 16 Nov 1994 00:00:00 GMT"})
        older = client.get(url, headers={"If-Modified-Since": "Mon, 14 Nov 1994 00:00:00 GMT"})

    assert (newer.status_code, older.status_code) == (304, 200)


def test_serve_dir_with_conditional_get(
    tmp_path: Path, feed_server: FeedServer, fetch: Fetcher
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "feed.xml").write_text(rss(), encoding="utf-8")
    base = feed_server.serve_dir("/files", tmp_path)
    url = base + "/sub/feed.xml"

    first = fetch.one(url)
    assert isinstance(first, Fetched)
    assert first.validators.etag and first.validators.last_modified
    second = fetch.one(url, validators={url: first.validators})

    assert isinstance(second, NotModified)
    with httpx.Client() as client:
        assert client.get(base + "/nope.xml").status_code == 404


def test_serve_dir_refuses_to_leave_the_directory(tmp_path: Path, feed_server: FeedServer) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    feed_server.serve_dir("/files", tmp_path / "public")
    host, port = feed_server.base_url.removeprefix("http://").split(":")

    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", "/files/../secret.txt")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()

    assert response.status == 404


def test_stop_is_prompt_while_a_request_hangs() -> None:
    server = FeedServer().start()
    url = server.route("/hang", Response.hang())
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with httpx.Client(timeout=10) as http:
                http.get(url)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    while server.hits("/hang") == 0:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    stopped_in = time.monotonic() - started
    thread.join(5)

    assert stopped_in < 1.0
    assert not thread.is_alive()
    assert len(errors) == 1


def test_reset_forgets_requests_and_list_positions(feed_server: FeedServer) -> None:
    url = feed_server.route("/x", [Response(500), Response(200)])
    with httpx.Client() as client:
        client.get(url)
        feed_server.reset()
        assert client.get(url).status_code == 500

    assert feed_server.hits("/x") == 1
