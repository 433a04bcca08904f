"""The loopback test server itself (tests/helpers/feedserver.py)."""

from __future__ import annotations

import http.client
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx
import pytest

from feedsite._fetch import Fetched, NotModified
from tests.helpers.feedserver import (
    MB,
    FeedServer,
    ForwardProxy,
    RecordedRequest,
    Response,
    SilentServer,
    filler,
    rss,
)

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


def test_streamed_body_is_chunked_and_complete(feed_server: FeedServer) -> None:
    url = feed_server.route("/big", Response.streamed(filler(300_000, block=4096)))

    with httpx.Client() as client:
        response = client.get(url)

    assert response.headers["Transfer-Encoding"] == "chunked"
    assert len(response.content) == 300_000
    assert response.content.startswith(b"<rss>")


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15)])
def test_bomb_is_a_valid_stream_of_zeros(
    feed_server: FeedServer, encoding: Literal["gzip", "deflate"], wbits: int
) -> None:
    url = feed_server.route("/bomb", Response.bomb(3 * MB, encoding))

    with httpx.Client() as client, client.stream("GET", url) as response:
        raw = b"".join(response.iter_raw())

    assert response.headers["Content-Encoding"] == encoding
    assert len(raw) < 10_000
    inflater = zlib.decompressobj(wbits)
    assert inflater.decompress(raw) == b"<rss>" + bytes(3 * MB)  # the checksum is verified
    assert inflater.eof and not inflater.unused_data


def test_declared_length_larger_than_sent_is_truncated(feed_server: FeedServer) -> None:
    url = feed_server.route("/cut", Response(200, "abc", content_length=10))

    with httpx.Client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(url)


def test_reset_after_sends_part_then_resets(feed_server: FeedServer) -> None:
    url = feed_server.route("/reset", Response(200, "x" * 10_000, reset_after=100))
    received = b""

    with (
        httpx.Client() as client,
        client.stream("GET", url) as response,
        pytest.raises(httpx.ReadError, match="reset"),
    ):
        for chunk in response.iter_raw():
            received += chunk

    assert received == b"x" * 100


def test_trickle_sends_one_byte_per_interval(feed_server: FeedServer) -> None:
    url = feed_server.route("/drip", Response.trickle("abcd", interval=0.05))
    arrivals: list[float] = []

    with httpx.Client() as client, client.stream("GET", url) as response:
        for chunk in response.iter_raw():
            arrivals += [time.monotonic()] * len(chunk)

    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] >= 0.14


def test_silent_server_accepts_and_never_answers() -> None:
    with SilentServer() as silent:
        with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
            client.get(silent.url())
        assert silent.connections == 1


def test_forward_proxy_forwards_loopback_and_refuses_the_rest(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))

    with ForwardProxy() as proxy, httpx.Client(proxy=proxy.url, trust_env=False) as client:
        through = client.get(url)
        refused = client.get("http://feedsite.invalid/feed")  # never resolved nor contacted

    assert through.status_code == 200
    assert through.headers["Via"] == "1.1 feedserver-proxy"
    assert through.text == rss()
    assert refused.status_code == 403
    assert proxy.targets == [url, "http://feedsite.invalid/feed"]
    assert feed_server.hits("/feed") == 1
