"""Decode a response body (``Content-Encoding``) under a hard size cap.

Scope: a pure, incremental decoder fed with raw network chunks. It never holds
more than ``limit`` decoded bytes (plus one chunk): decompression asks zlib for
at most the room left, so a gzip or deflate bomb stops as soon as it passes
the cap, however much it would expand. Contains no I/O.

Supported: ``identity``, ``gzip`` / ``x-gzip`` (multi-member too) and
``deflate`` (zlib-wrapped, or raw as some servers send it). Brotli and zstd
are not: httpx decodes ``br`` only with the extra ``brotli`` package, so
``Accept-Encoding`` does not offer them, and a server that sends them anyway
fails with "unsupported Content-Encoding".
"""

from __future__ import annotations

import io
import zlib

#: What the fetch stage offers in ``Accept-Encoding``.
ACCEPT_ENCODING = "gzip, deflate"

_GZIP_MAGIC = b"\x1f\x8b"


class BodyTooLarge(Exception):
    """The decoded body passed the cap."""


class BadEncoding(Exception):
    """The body cannot be decoded (corrupt data, unsupported encoding)."""


class TruncatedEncoding(Exception):
    """The compressed stream ended before its end marker."""


def _wanted_coding(content_encoding: str | None) -> str:
    codings = [
        part.strip().lower()
        for part in (content_encoding or "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    raise BadEncoding(f"unsupported Content-Encoding: {content_encoding}")


def _looks_like_zlib(head: bytes) -> bool:
    """A zlib header: deflate method and a valid check value (RFC 1950)."""
    return (head[0] & 0x0F) == 8 and (head[0] << 8 | head[1]) % 31 == 0


class BoundedBody:
    """Collect a body from raw chunks, decoding it, failing once it passes ``limit``.

    Use ``feed`` for each raw chunk, then ``finish``. ``raw_size`` counts the
    bytes received, ``size`` the decoded bytes kept.

    Raises:
        BadEncoding: from the constructor, for an unsupported ``Content-Encoding``.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.coding = _wanted_coding(content_encoding)
        self.limit = limit
        self.raw_size = 0
        self.size = 0
        self._out = io.BytesIO()
        self._pending = b""  # the first bytes of a deflate body or of a next gzip member
        self._ignore_rest = False  # bytes after the end of the compressed data
        self._inflater: zlib._Decompress | None = None
        if self.coding == "gzip":
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> None:
        """Take one raw chunk.

        Raises:
            BodyTooLarge: the decoded body passed ``limit``.
            BadEncoding: the compressed data is corrupt.
        """
        self.raw_size += len(chunk)
        if self._ignore_rest:
            return
        if self.coding == "identity":
            self._keep(chunk)
            return
        if self._inflater is None:  # deflate, kind not known yet
            self._pending += chunk
            if len(self._pending) < 2:
                return
            wbits = zlib.MAX_WBITS if _looks_like_zlib(self._pending) else -zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(wbits)
            chunk, self._pending = self._pending, b""
        self._inflate(chunk)

    def finish(self) -> bytes:
        """Return the decoded body.

        Raises:
            TruncatedEncoding: the compressed stream did not reach its end.
        """
        unfinished = self._inflater is None or not self._inflater.eof
        if self.coding != "identity" and self.raw_size > 0 and unfinished:
            raise TruncatedEncoding(f"the {self.coding} stream ends early")
        return self._out.getvalue()

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise BodyTooLarge
        self._out.write(data)

    def _inflate(self, data: bytes) -> None:
        inflater = self._inflater
        assert inflater is not None
        while data:
            if inflater.eof:
                # A new gzip member may follow; anything else after the end is ignored.
                self._pending += data
                if self.coding == "gzip" and len(self._pending) < 2:
                    return
                if self.coding != "gzip" or not self._pending.startswith(_GZIP_MAGIC):
                    self._ignore_rest, self._pending = True, b""
                    return
                data, self._pending = self._pending, b""
                inflater = self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                # Ask for at most one byte more than the room left: a bomb stops here.
                out = inflater.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                raise BadEncoding(f"corrupt {self.coding} data: {exc}") from None
            self._keep(out)
            data = inflater.unconsumed_tail or (inflater.unused_data if inflater.eof else b"")
