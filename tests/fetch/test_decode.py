"""The bounded body decoder: identity, gzip, deflate, caps, bombs, bad data."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterable

import pytest

from feedsite._fetch._decode import BadEncoding, BodyTooLarge, BoundedBody, TruncatedEncoding
from tests.helpers.feedserver import GB, MB, compressed_zeros

TEXT = b"<rss>" + b"feed text " * 5000 + b"</rss>"


def _decode(encoding: str | None, data: bytes, limit: int = 10 * MB, step: int = 4096) -> bytes:
    body = BoundedBody(encoding, limit)
    for start in range(0, len(data), step):
        body.feed(data[start : start + step])
    return body.finish()


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        (None, TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("GZIP, identity", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate, as some servers send it
        ("gzip", gzip.compress(TEXT[:1000]) + gzip.compress(TEXT[1000:])),  # two members
    ],
)
def test_round_trip(encoding: str | None, data: bytes) -> None:
    assert _decode(encoding, data) == TEXT
    assert _decode(encoding, data, step=1) == TEXT


@pytest.mark.parametrize(
    ("encoding", "data"),
    [(None, TEXT), ("gzip", gzip.compress(TEXT)), ("deflate", zlib.compress(TEXT))],
)
def test_the_limit_counts_decoded_bytes(encoding: str | None, data: bytes) -> None:
    assert _decode(encoding, data, limit=len(TEXT)) == TEXT
    with pytest.raises(BodyTooLarge):
        _decode(encoding, data, limit=len(TEXT) - 1)


def _feed_all(body: BoundedBody, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        body.feed(piece)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_bomb_stops_at_the_cap_with_bounded_memory(encoding: str) -> None:
    body = BoundedBody(encoding, 4 * MB)
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            _feed_all(body, compressed_zeros(10 * GB, encoding)())  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert body.size <= 4 * MB + 1
    assert body.raw_size < 10 * 1024  # a few KB of the 10 MB stream were read
    assert peak < 16 * MB


def test_truncated_stream_is_reported() -> None:
    data = gzip.compress(TEXT)
    with pytest.raises(TruncatedEncoding, match="gzip stream ends early"):
        _decode("gzip", data[: len(data) // 2])


def test_one_byte_of_deflate_is_truncated() -> None:
    with pytest.raises(TruncatedEncoding):
        _decode("deflate", b"\x78")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_corrupt_data_is_reported(encoding: str) -> None:
    with pytest.raises(BadEncoding, match=f"corrupt {encoding} data"):
        _decode(encoding, b"\x1f\x8b\x08\x00garbage-garbage-garbage" * 10)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unsupported_encodings_are_refused(encoding: str) -> None:
    with pytest.raises(BadEncoding, match="unsupported Content-Encoding"):
        BoundedBody(encoding, 100)


def test_empty_compressed_body_is_empty() -> None:
    assert _decode("gzip", b"") == b""


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_bytes_after_the_end_are_ignored(encoding: str) -> None:
    data = gzip.compress(TEXT) if encoding == "gzip" else zlib.compress(TEXT)

    assert _decode(encoding, data + b"\x00trailing junk" * 100) == TEXT
    assert _decode(encoding, data + b"\x00trailing junk" * 100, step=1) == TEXT
