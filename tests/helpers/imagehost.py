"""A loopback "image host" for tests of image downloads: many hosts behind one proxy.

Scope: test support only. Contains no feedsite logic.

One threaded HTTP server on 127.0.0.1 answers both origin-form requests
(``GET /x.png`` with ``Host: 127.0.0.1:PORT``) and the absolute-URI requests an
HTTP client sends to a forward proxy (``GET http://wx1.sinaimg.cn/large/a.jpg``,
what httpx sends through ``proxy=``). It never forwards anything: it *is* every
host, and dispatches on (``Host`` header, path). So a test can fetch
``http://wx1.sinaimg.cn/...`` without the internet::

    with ImageHost() as server:
        sina = server.host("wx1.sinaimg.cn")          # 403 unless Referer https://weibo.com/...
        url = sina.url("/large/a.jpg")
        settings = FetchConfig(proxy=server.proxy_url)
        ...
        assert server.requests == [("wx1.sinaimg.cn", "/large/a.jpg", "https://weibo.com/")]

Built on ``tests.helpers.feedserver`` (its handler, ``Response``, streaming,
trickling, and a shutdown that wakes waiting handlers, closes connections and
joins every thread).

Each host has a guard (who gets the real image) and per-path routes:

- ``"prefix"``: 403 unless the Referer starts with ``prefix`` (Weibo's sinaimg);
- ``"placeholder"``: any Referer gets ``PLACEHOLDER_PNG`` (200, the same bytes
  for every URL), no Referer the real image (WeChat's mmbiz.qpic.cn; and
  ``hotlink.test``, which is in no built-in Referer table);
- ``"article"``: 200 only when the Referer is the article URL registered with
  ``expect_article`` for that image, else 403 (Zaobao);
- ``"open"``: everyone gets the image.

``ImageHost.host(name)`` picks the guard from the name (``*.sinaimg.cn``,
``*.qpic.cn``, ``hotlink.test``, ``*.zaobao.com(.sg)``; others are open).
Unknown hosts get a 502. ``127.0.0.1`` is an open host from the start.

A path with no route serves ``image_for(url)``: a deterministic JPEG, PNG or GIF
made with Pillow from the URL (format from the extension or ``wx_fmt=``, size
and colour from a hash), so different URLs give different bytes.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from tests.helpers.feedserver import MB, FeedServer, RecordedRequest, Response

Guard = Literal["open", "prefix", "placeholder", "article"]

#: What a foreign Referer gets from a "placeholder" host: one small PNG, always the same.
PLACEHOLDER_PNG: bytes


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _placeholder() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (300, 120), (200, 200, 200))
    ImageDraw.Draw(image).rectangle((20, 20, 280, 100), outline=(120, 120, 120), width=4)
    image.save(buffer, "PNG")
    return buffer.getvalue()


PLACEHOLDER_PNG = _placeholder()


def _digest(url: str) -> bytes:
    return hashlib.sha256(url.encode("utf-8")).digest()


def image_format(url: str) -> Literal["JPEG", "PNG", "GIF"]:
    """The format ``image_for(url)`` uses: from ``wx_fmt=``, else the extension, else JPEG."""
    parts = urlsplit(url)
    wanted = (parse_qs(parts.query).get("wx_fmt") or [""])[0].lower()
    if not wanted:
        wanted = parts.path.rpartition(".")[2].lower() if "." in parts.path else ""
    if wanted == "png":
        return "PNG"
    if wanted == "gif":
        return "GIF"
    return "JPEG"


_MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}


@cache
def image_for(url: str) -> bytes:
    """A deterministic image for ``url``: 400-1600 px wide, colour and shapes from a hash.

    Args:
        url: the absolute URL as requested (``http://host/path?query``).

    Returns:
        JPEG, PNG or GIF bytes (see ``image_format``).
    """
    seed = _digest(url)
    width = 400 + int.from_bytes(seed[0:2]) % 1201
    height = 300 + int.from_bytes(seed[2:4]) % 601
    image = Image.new("RGB", (width, height), (seed[4], seed[5], seed[6]))
    draw = ImageDraw.Draw(image)
    x, y = seed[7] * width // 256, seed[8] * height // 256
    draw.rectangle((x, y, x + width // 4, y + height // 4), fill=(seed[9], seed[10], seed[11]))
    buffer = io.BytesIO()
    kind = image_format(url)
    if kind == "JPEG":
        image.save(buffer, kind, quality=80)
    else:
        image.save(buffer, kind)
    return buffer.getvalue()


@cache
def bomb_png(size: int = 20_000) -> bytes:
    """A ``size`` x ``size`` 8-bit grey PNG of zeros: ~400 KB that decodes to 400 MB.

    Every MiB of zeros compresses to the same block after a full flush, so the
    stream is one block repeated; the Adler-32 of n zero bytes is ``n << 16 | 1``.
    """
    raw = size * (size + 1)  # a filter byte, then the row
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    head = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks, rest = divmod(raw, MB)
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    checksum = ((raw % 65521) << 16) | 1
    data = head + block * (blocks - 1) + tail[:-4] + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
HTML_PAGE = (
    b"<!doctype html><html><head><title>Image not found</title></head>"
    b"<body>Hotlinking is not allowed.</body></html>"
)


#: A path's route: a fixed response, or a callable of the request and its absolute URL.
Route = Response | Callable[[RecordedRequest, str], Response]


@dataclass
class VirtualHost:
    """One host the image host pretends to be.

    Attributes:
        name: the host name (``Host`` header without the port).
        guard: who gets the real images (see the module docstring).
        prefix: for guard ``"prefix"``, the Referer prefix that passes.
    """

    name: str
    guard: Guard
    prefix: str
    _server: ImageHost
    _routes: dict[str, Route] = field(default_factory=dict)
    _articles: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (which may carry a query) on this host."""
        path = path if path.startswith("/") else "/" + path
        return f"http://{self._server.netloc(self.name)}{path}"

    def route(self, path: str, route: Route) -> str:
        """Answer ``path`` (query ignored) with ``route`` after the guard; return its URL."""
        with self._server.lock:
            self._routes[urlsplit(path).path] = route
        return self.url(path)

    def expect_article(self, url: str, article_url: str) -> str:
        """For guard ``"article"``: ``url`` is served only with ``Referer: article_url``."""
        with self._server.lock:
            self._articles[urlsplit(url).path] = article_url
        return url

    # -- behaviours ------------------------------------------------------------

    def lie(self, path: str, content_type: str) -> str:
        """Serve the real image of ``path`` with a wrong ``Content-Type``."""
        return self.route(path, lambda _r, url: _image_response(url, content_type))

    def html(self, path: str, content_type: str = "text/html; charset=utf-8") -> str:
        """A 200 HTML page (an error page), maybe labelled ``image/jpeg``."""
        return self.route(path, Response(200, HTML_PAGE, content_type=content_type))

    def svg(self, path: str) -> str:
        """A 200 SVG carrying a ``<script>``."""
        return self.route(path, Response(200, SVG_WITH_SCRIPT, content_type="image/svg+xml"))

    def big(self, path: str, size: int = 50 * MB, *, content_length: bool = True) -> str:
        """A ``size``-byte "PNG" made on the fly; with a true ``Content-Length`` or chunked.

        ``ImageHost.sent(url)`` tells how many body bytes were written.
        """
        server = self._server

        def answer(_request: RecordedRequest, url: str) -> Response:
            return Response(
                200,
                content_type="image/png",
                stream=server.counted(url, _filler(size)),
                content_length=size if content_length else None,
            )

        return self.route(path, answer)

    def bomb(self, path: str) -> str:
        """A 20,000 x 20,000 PNG decompression bomb (small on the wire)."""
        return self.route(path, lambda _r, _u: Response(200, bomb_png(), content_type="image/png"))

    def trickle(self, path: str, interval: float = 0.2) -> str:
        """The real image, one byte every ``interval`` seconds."""
        return self.route(
            path,
            lambda _r, url: Response.trickle(image_for(url), interval, content_type="image/png"),
        )

    def fail_first(self, path: str, n: int, status: int = 404) -> str:
        """``status`` for the first ``n`` requests that pass the guard, then the image."""
        hits = [0]

        def answer(_request: RecordedRequest, url: str) -> Response:
            with self._server.lock:
                hits[0] += 1
                failing = hits[0] <= n
            return Response(status, "not yet") if failing else _image_response(url)

        return self.route(path, answer)

    def unavailable(self, path: str, retry_after: str = "120") -> str:
        """A 503 with ``Retry-After: retry_after``."""
        return self.route(path, Response(503, "busy", headers={"Retry-After": retry_after}))

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        """A redirect to ``location``."""
        return self.route(path, Response.redirect(location, status))

    # -- answering (called by handler threads) ----------------------------------

    def answer(self, request: RecordedRequest, url: str) -> Response:
        referer = request.header("Referer")
        path = request.path
        with self._server.lock:
            route = self._routes.get(path)
            article = self._articles.get(path)
        if self.guard == "prefix" and not (referer or "").startswith(self.prefix):
            return Response(403, "denied by Referer ACL")
        if self.guard == "article" and (article is None or referer != article):
            return Response(403, "forbidden")
        if self.guard == "placeholder" and referer:
            return Response(200, PLACEHOLDER_PNG, content_type="image/png")
        if route is None:
            return _image_response(url)
        return route if isinstance(route, Response) else route(request, url)


def _image_response(url: str, content_type: str | None = None) -> Response:
    body = image_for(url)
    return Response(200, body, content_type=content_type or _MEDIA_TYPES[image_format(url)])


def _filler(size: int, block: int = 64 * 1024) -> Iterator[bytes]:
    head = b"\x89PNG\r\n\x1a\n"
    piece = bytes(block)
    yield head
    left = size - len(head)
    while left > 0:
        part = piece[:left]
        left -= len(part)
        yield part


def default_guard(name: str) -> tuple[Guard, str]:
    """The guard (and Referer prefix) ``ImageHost.host`` gives ``name`` by default."""
    name = name.lower()
    if name == "sinaimg.cn" or name.endswith(".sinaimg.cn"):
        return "prefix", "https://weibo.com/"
    if name.endswith((".qpic.cn", ".qlogo.cn")) or name == "hotlink.test":
        return "placeholder", ""
    if name.endswith((".zaobao.com", ".zaobao.com.sg")):
        return "article", ""
    return "open", ""


class _Origin(FeedServer):
    """The feed server's machinery, dispatching on the ``Host`` header instead of routes."""

    def __init__(self, owner: ImageHost) -> None:
        super().__init__()
        self._owner = owner

    def _respond(self, request: RecordedRequest) -> Response:
        return self._owner._answer(request)


class ImageHost:
    """Many image hosts and their forward proxy, on one loopback port.

    Use as a context manager. Thread-safe.

    Attributes:
        proxy_url: ``http://127.0.0.1:PORT``: give it to ``FetchConfig(proxy=...)``.
        port: the port.
        lock: guards the hosts' state (used by ``VirtualHost``).
    """

    def __init__(self) -> None:
        self._origin = _Origin(self)
        self._hosts: dict[str, VirtualHost] = {}
        self._sent: dict[str, int] = {}
        self.lock = threading.Lock()
        self.proxy_url = ""
        self.port = 0

    def __enter__(self) -> ImageHost:
        self._origin.start()
        self.proxy_url = self._origin.base_url
        self.port = int(self.proxy_url.rpartition(":")[2])
        self.host("127.0.0.1", "open")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._origin.stop()

    def netloc(self, name: str) -> str:
        """How URLs spell host ``name``: with the real port for ``127.0.0.1``."""
        return f"{name}:{self.port}" if name == "127.0.0.1" else name

    def host(self, name: str, guard: Guard | None = None, prefix: str | None = None) -> VirtualHost:
        """Add (or replace) host ``name``; the guard defaults by name (``default_guard``)."""
        default, default_prefix = default_guard(name)
        host = VirtualHost(
            name.lower(),
            guard or default,
            default_prefix if prefix is None else prefix,
            self,
        )
        with self.lock:
            self._hosts[host.name] = host
        return host

    @property
    def hosts(self) -> frozenset[str]:
        """The names of the hosts added so far."""
        with self.lock:
            return frozenset(self._hosts)

    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        """Every request received: ``(host, path without query, Referer or None)``."""
        return [
            (_host_name(request), request.path, request.header("Referer"))
            for request in self._origin.requests
        ]

    def requests_for(self, url: str) -> list[tuple[str, str, str | None]]:
        """The requests of ``url``'s host and path."""
        parts = urlsplit(url)
        return [r for r in self.requests if (r[0], r[1]) == (parts.hostname, parts.path)]

    def referers(self, url: str) -> list[str | None]:
        """The Referers ``url`` was requested with, in order."""
        return [referer for _host, _path, referer in self.requests_for(url)]

    def sent(self, url: str) -> int:
        """Body bytes written for ``url`` by ``big`` routes (all requests together)."""
        with self.lock:
            return self._sent.get(url, 0)

    def counted(self, url: str, pieces: Iterator[bytes]) -> Callable[[], Iterator[bytes]]:
        """A stream of ``pieces`` that adds each piece to ``sent(url)`` once it was written."""

        def stream() -> Iterator[bytes]:
            for piece in pieces:
                yield piece
                # Resumed only after the handler wrote the piece.
                with self.lock:
                    self._sent[url] = self._sent.get(url, 0) + len(piece)

        return stream

    def _answer(self, request: RecordedRequest) -> Response:
        name = _host_name(request)
        with self.lock:
            host = self._hosts.get(name)
        if host is None:
            return Response(502, f"no such host: {name}")
        url = f"http://{self.netloc(name)}{request.path}"
        if request.query:
            url += f"?{request.query}"
        return host.answer(request, url)


def _host_name(request: RecordedRequest) -> str:
    host = (request.header("Host") or "").lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if ":" in host else host


_IMG_URL = re.compile(rb"""(?:src|url)=["']?(https?://[^"'\s<>&]+)""")


def serve_rsshub_zh(server: ImageHost, corpus: Path, name: str = "rsshub.test") -> str:
    """Serve the rsshub-zh corpus as an RSSHub instance on host ``name``.

    Each file is at ``/rsshub-zh/<file>`` (the route of the feed ``MANIFEST.json`` names),
    every ``https://`` in it made ``http://`` (the image host speaks no TLS), and every
    host its images are on is added (default behaviour: sinaimg's Referer ACL, qpic's
    placeholder...). Returns the instance URL."""
    instance = server.host(name)
    manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
    for m in manifest:
        data = (corpus / m["file"]).read_bytes().replace(b"https://", b"http://")
        for url in _IMG_URL.findall(html.unescape(data.decode("utf-8", "replace")).encode()):
            hostname = urlsplit(url.decode()).hostname
            if hostname and hostname not in server.hosts:
                server.host(hostname)
        instance.route("/rsshub-zh/" + m["file"], Response.rss(data))
    return f"http://{name}"
