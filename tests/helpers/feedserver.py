"""A programmable HTTP server on 127.0.0.1 for tests that fetch feeds.

Scope: test support only. Contains no feedsite logic.

Typical use::

    with FeedServer() as server:
        server.route("/feed", Response.rss(ITEMS, etag='"v1"'))
        server.route("/flaky", [Response(503), Response.rss(ITEMS)])   # in turn, last repeats
        server.route("/slow", Response.hang())                         # never answers in time
        server.serve_dir("/files", tmp_path)                           # static files
        server.route("/big", Response.streamed(filler(200 * MB)))      # generated on the fly
        server.route("/bomb", Response.bomb(10 * GB, "gzip"))          # 10 GB of zeros, gzipped
        url = server.url("/feed")                                      # http://127.0.0.1:PORT/feed
        ...
        assert server.hits("/feed") == 2
        assert server.requests_for("/feed")[-1].header("If-None-Match") == '"v1"'

A route is a ``Response``, a list of them (served in turn, the last one repeats),
or a callable ``(RecordedRequest) -> Response``. Unknown paths get a 404. Paths
are matched without their query string. ``Response(etag=..., last_modified=...)``
answers 304 to a matching conditional GET. ``delay`` / ``Response.hang()`` wait
on an event that ``stop()`` sets, so hanging handlers end promptly at shutdown;
``stop()`` also closes every open connection and joins every handler thread.

Faults: ``Response(content_length=...)`` declares more than is sent and closes
(a truncated body); ``reset_after=N`` sends N body bytes then resets the
connection (RST); ``Response.trickle`` drips the body a byte at a time.
``SilentServer`` accepts connections and never answers; ``ForwardProxy`` is a
loopback HTTP proxy that counts what it forwards.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import hashlib
import http.client
import mimetypes
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

#: Longest a delayed or hanging response waits, so a forgotten hang cannot stall a test run.
MAX_DELAY = 30.0
MB = 1024 * 1024
GB = 1024 * MB


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received.

    Attributes:
        method: ``GET``, ``HEAD``...
        path: the path, without the query string.
        query: the query string, without ``?`` ("" when none).
        headers: header names lower-cased.
        time: ``time.monotonic()`` when it arrived.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    time: float

    def header(self, name: str) -> str | None:
        """Return a request header by case-insensitive name, or None."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    """A canned response.

    Attributes:
        status: HTTP status.
        body: bytes, or text (sent as UTF-8).
        headers: extra headers (added after the computed ones).
        content_type: the ``Content-Type``; None sends none.
        delay: seconds to wait before answering (capped at ``MAX_DELAY``, cut short by ``stop()``).
        etag: sent as ``ETag``; a matching ``If-None-Match`` gets a 304.
        last_modified: sent as ``Last-Modified``; when there is no ``If-None-Match``, an
            ``If-Modified-Since`` at or after it gets a 304.
        encoding: compress the body with ``gzip`` or ``deflate`` and say so in
            ``Content-Encoding``.
        chunk_delay: when positive, the body is sent in ``chunks`` pieces with this
            many seconds between them (a slow drip).
        chunks: number of pieces for ``chunk_delay``.
        drop: close the connection without answering (after ``delay``).
        stream: when set, called once per request for the body pieces, produced on
            the fly (never held whole); sent chunked unless ``content_length`` is set.
            ``body`` and ``encoding`` are then ignored (pieces go out as they are).
        content_length: the ``Content-Length`` to declare instead of the real one;
            when it is larger than what is sent, the connection is closed after the
            body (a truncated response).
        reset_after: send only this many body bytes, then reset the connection (RST).
    """

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "text/plain; charset=utf-8"
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    encoding: Literal["gzip", "deflate"] | None = None
    chunk_delay: float = 0.0
    chunks: int = 10
    drop: bool = False
    stream: Callable[[], Iterable[bytes]] | None = None
    content_length: int | None = None
    reset_after: int | None = None

    @classmethod
    def rss(cls, body: bytes | str, **kwargs: Any) -> Response:
        """A 200 with ``Content-Type: application/rss+xml``."""
        kwargs.setdefault("content_type", "application/rss+xml; charset=utf-8")
        return cls(200, body, **kwargs)

    @classmethod
    def html(
        cls, body: bytes | str = "<!doctype html><html><body>hi</body></html>", **kwargs: Any
    ) -> Response:
        """A 200 HTML page (what a captive portal or an error page looks like)."""
        kwargs.setdefault("content_type", "text/html; charset=utf-8")
        return cls(200, body, **kwargs)

    @classmethod
    def hang(cls, seconds: float = MAX_DELAY) -> Response:
        """Answer nothing for ``seconds`` (then a 200 nobody waits for)."""
        return cls(200, b"too late", delay=seconds)

    @classmethod
    def drop_connection(cls) -> Response:
        """Close the connection without sending anything (a crashed or reset server)."""
        return cls(drop=True)

    @classmethod
    def trickle(cls, body: bytes | str, interval: float = 1.0, **kwargs: Any) -> Response:
        """A 200 RSS response whose body drips one byte every ``interval`` seconds."""
        size = len(body.encode("utf-8") if isinstance(body, str) else body)
        return cls.rss(body, chunk_delay=interval, chunks=size, **kwargs)

    @classmethod
    def streamed(cls, pieces: Callable[[], Iterable[bytes]], **kwargs: Any) -> Response:
        """A 200 RSS response whose body ``pieces()`` produces on the fly (sent chunked)."""
        kwargs.setdefault("content_type", "application/rss+xml; charset=utf-8")
        return cls(200, b"", stream=pieces, **kwargs)

    @classmethod
    def bomb(cls, size: int, encoding: Literal["gzip", "deflate"] = "gzip") -> Response:
        """A compressed body that decodes to ``<rss>`` and ``size`` zero bytes.

        About 1 KB per MiB goes over the wire (10 MB for 10 GB), produced on the
        fly (see ``compressed_zeros``).
        """
        return cls.streamed(
            compressed_zeros(size, encoding),
            headers={"Content-Encoding": encoding},
        )

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        """A redirect to ``location`` (absolute, or a path on this server)."""
        return cls(status, b"", headers={"Location": location}, content_type=None)

    def body_bytes(self) -> bytes:
        """The body as bytes, before any compression."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


#: What a route can be.
Route = Response | Sequence[Response] | Callable[[RecordedRequest], Response]


def is_not_modified(response: Response, request: RecordedRequest) -> bool:
    """Tell whether ``request``'s validators match ``response`` (RFC 9110 precedence)."""
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        if response.etag is None:
            return False
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or response.etag.removeprefix("W/") in tags
    if_modified_since = request.header("If-Modified-Since")
    if if_modified_since is None or response.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(
            response.last_modified
        )
    except (TypeError, ValueError):
        return False


def _encode(body: bytes, encoding: Literal["gzip", "deflate"] | None) -> bytes:
    if encoding == "gzip":
        return gzip_module.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            time=time.monotonic(),
        )
        owner = self.server.owner
        owner._enter(request)
        try:
            response = owner._respond(request)
            stopped = response.delay > 0 and owner._stopping.wait(min(response.delay, MAX_DELAY))
        finally:
            # Leave before answering: once the client has its answer it may send the
            # next request, which must not be counted as overlapping this one.
            owner._leave()
        if stopped or response.drop:
            self.close_connection = True
            return
        self._write(response, request, send_body)

    def _write(self, response: Response, request: RecordedRequest, send_body: bool) -> None:
        validators = {"ETag": response.etag, "Last-Modified": response.last_modified}
        if response.status == 200 and is_not_modified(response, request):
            self.send_response(304)
            for name, value in validators.items():
                if value is not None:
                    self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        streamed = response.stream is not None
        body = b"" if streamed else _encode(response.body_bytes(), response.encoding)
        self.send_response(response.status)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        if response.encoding is not None and not streamed:
            self.send_header("Content-Encoding", response.encoding)
        for name, value in validators.items():
            if value is not None:
                self.send_header(name, value)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.content_length is not None:
            self.send_header("Content-Length", str(response.content_length))
        elif streamed:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        if response.reset_after is not None:
            self._send_and_reset(body, response.reset_after)
        elif response.stream is not None:
            self._send_stream(response.stream(), chunked=response.content_length is None)
        else:
            self._send_body(body, response)
        if response.content_length is not None and response.content_length > len(body):
            self.close_connection = True  # the client waits for bytes that never come

    def _send_stream(self, pieces: Iterable[bytes], chunked: bool) -> None:
        owner = self.server.owner
        for piece in pieces:
            if owner._stopping.is_set():
                self.close_connection = True
                return
            if not piece:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.wfile.write(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _send_and_reset(self, body: bytes, count: int) -> None:
        self.wfile.write(body[:count])
        self.wfile.flush()
        time.sleep(0.05)  # let the client read the bytes, so the reset hits mid-body
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.reset_on_close(self.connection)
        self.close_connection = True

    def _send_body(self, body: bytes, response: Response) -> None:
        if response.chunk_delay <= 0:
            self.wfile.write(body)
            return
        size = max(1, -(-len(body) // max(1, response.chunks)))
        for start in range(0, len(body), size):
            self.wfile.write(body[start : start + size])
            self.wfile.flush()
            if self.server.owner._stopping.wait(response.chunk_delay):
                self.close_connection = True
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, owner: FeedServer) -> None:
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._reset: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
            reset = request in self._reset
            self._reset.discard(request)
        if reset:
            self.close_request(request)  # no FIN first: SO_LINGER 0 makes close send RST
            return
        super().shutdown_request(request)

    def reset_on_close(self, request: socket.socket) -> None:
        """Close ``request`` with a reset instead of an orderly shutdown."""
        with self._open_lock:
            self._reset.add(request)

    def close_open_connections(self) -> None:
        """Shut down every connection still open, so keep-alive handlers stop waiting."""
        with self._open_lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, size caps) are expected in these tests.
        pass


class FeedServer:
    """A threaded HTTP server on ``127.0.0.1:<free port>`` with programmable routes.

    Use it as a context manager (or call ``start()`` / ``stop()``). Thread-safe:
    routes may be changed while requests are served.

    Attributes:
        base_url: ``http://127.0.0.1:PORT`` (set once started).
    """

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._turns: dict[str, int] = {}
        self._dirs: list[tuple[str, Path]] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._active = 0
        self._max_active = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FeedServer:
        """Bind a free port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("FeedServer already started")
        self._stopping.clear()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="feedserver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed handlers, close connections, join every thread."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_open_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- programming -------------------------------------------------------

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` (which may carry a query string) on this server."""
        if not self.base_url:
            raise RuntimeError("FeedServer not started")
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, route: Route) -> str:
        """Serve ``route`` at ``path`` (query ignored when matching); return its URL.

        Args:
            path: e.g. ``"/feed"``. A query string here is kept in the returned URL only.
            route: a ``Response``; a list of them served in turn (the last repeats);
                or a callable ``(RecordedRequest) -> Response``.
        """
        key = urlsplit(path).path
        with self._lock:
            self._routes[key] = route
            self._turns[key] = 0
        return self.url(path)

    def serve_dir(self, prefix: str, directory: str | Path) -> str:
        """Serve files under ``directory`` at ``prefix/<relative path>``; return the prefix URL.

        Files get a ``Content-Type`` guessed from their suffix, a content-hash
        ``ETag`` and a ``Last-Modified`` from their mtime, so conditional GETs work.
        """
        prefix = "/" + prefix.strip("/")
        with self._lock:
            self._dirs.append((prefix, Path(directory).resolve()))
        return self.url(prefix)

    def reset(self) -> None:
        """Forget recorded requests, the concurrency peak and list positions (routes stay)."""
        with self._lock:
            self._requests.clear()
            self._max_active = self._active
            self._turns = dict.fromkeys(self._turns, 0)

    # -- inspection --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """The requests received for ``path`` (query ignored)."""
        key = urlsplit(path).path
        return [request for request in self.requests if request.path == key]

    def hits(self, path: str) -> int:
        """How many requests ``path`` received (query ignored)."""
        return len(self.requests_for(path))

    @property
    def max_concurrent(self) -> int:
        """The most requests that were awaiting their response at the same time.

        A request counts from its arrival until its response starts being written
        (its ``delay`` included), so give responses a ``delay`` to observe overlap.
        """
        with self._lock:
            return self._max_active

    # -- called by handler threads ------------------------------------------

    def _enter(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._active += 1
            self._max_active = max(self._max_active, self._active)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1

    def _respond(self, request: RecordedRequest) -> Response:
        with self._lock:
            route = self._routes.get(request.path)
            if isinstance(route, Sequence):
                turn = self._turns[request.path]
                self._turns[request.path] = turn + 1
                return route[min(turn, len(route) - 1)]
            dirs = list(self._dirs)
        if isinstance(route, Response):
            return route
        if route is not None:
            return route(request)
        for prefix, directory in dirs:
            if request.path.startswith(prefix + "/"):
                return _file_response(directory, request.path[len(prefix) + 1 :])
        return Response(404, "not found")


def _file_response(directory: Path, relative: str) -> Response:
    path = (directory / relative).resolve()
    if not path.is_relative_to(directory) or not path.is_file():
        return Response(404, "not found")
    body = path.read_bytes()
    content_type, _ = mimetypes.guess_type(path.name)
    return Response(
        200,
        body,
        content_type=content_type or "application/octet-stream",
        etag='"' + hashlib.sha256(body).hexdigest()[:16] + '"',
        last_modified=formatdate(path.stat().st_mtime, usegmt=True),
    )


def closed_port_url(path: str = "/feed") -> str:
    """A ``http://127.0.0.1:PORT`` URL where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def rss(title: str = "Test feed", items: int = 1, link: str = "https://example.org/") -> str:
    """A small valid RSS 2.0 document with ``items`` entries."""
    entries = "".join(
        f"<item><title>{title} item {n}</title><link>{link}{n}</link>"
        f"<guid>{link}{n}</guid><description>Body {n}</description></item>"
        for n in range(1, items + 1)
    )
    return (
        '<rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link><description>{title}</description>"
        f"{entries}</channel></rss>"
    )


def filler(size: int, block: int = 64 * 1024) -> Callable[[], Iterator[bytes]]:
    """Body pieces of an RSS-looking document of ``size`` bytes, made on the fly.

    The same block is yielded again and again, so the server holds one block,
    never the body.
    """

    def pieces() -> Iterator[bytes]:
        head = b"<rss><channel><title>big</title><description>"
        piece = b"x" * block
        sent = len(head)
        yield head
        while sent < size:
            part = piece[: size - sent]
            sent += len(part)
            yield part

    return pieces


def compressed_zeros(
    size: int, encoding: Literal["gzip", "deflate"]
) -> Callable[[], Iterator[bytes]]:
    """Pieces of a gzip or zlib stream that decodes to ``<rss>`` and ``size // MB`` MiB of zeros.

    After a full flush the compressor's state is reset, so every further MiB of
    zeros compresses to the same ~1 KB: that block is computed once and repeated.
    The trailer's checksum is computed only when the end is reached (a client
    that reads that far has already failed its size cap, unless ``size`` is small).
    """
    megabyte = bytes(MB)

    def pieces() -> Iterator[bytes]:
        gzip = encoding == "gzip"
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if gzip else 15)
        yield compressor.compress(b"<rss>") + compressor.flush(zlib.Z_FULL_FLUSH)
        block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
        blocks = size // MB
        for _ in range(blocks):
            yield block
        # The compressor saw one MiB only: replace its trailer with the real one.
        final = compressor.flush()[: -8 if gzip else -4]
        check = zlib.crc32(b"<rss>") if gzip else zlib.adler32(b"<rss>")
        for _ in range(blocks):
            check = zlib.crc32(megabyte, check) if gzip else zlib.adler32(megabyte, check)
        total = 5 + blocks * MB
        if gzip:
            yield final + struct.pack("<II", check, total & 0xFFFFFFFF)
        else:
            yield final + struct.pack(">I", check)

    return pieces


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers.

    Use as a context manager; ``url(path)`` points at it; ``connections`` counts
    the accepted ones. ``stop()`` closes them all and joins the thread.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent", daemon=True)
        self.port = self._listener.getsockname()[1]

    @property
    def connections(self) -> int:
        """How many connections were accepted."""
        return len(self._held)

    def url(self, path: str = "/feed") -> str:
        """``http://127.0.0.1:PORT<path>``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop accepting, close every held connection, join the thread."""
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()
        for connection in self._held:
            connection.close()


#: Headers a proxy does not pass on (RFC 9110 section 7.6.1, and the framing it redoes).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        owner = self.server.owner
        owner._record(self.path, {k.lower(): v for k, v in self.headers.items()})
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            # Loopback only: this proxy must never reach the network.
            self._answer(403, [], b"loopback only")
            return
        upstream = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request("GET", target or "/", headers=headers)
            reply = upstream.getresponse()
            body = reply.read()
            kept = [(k, v) for k, v in reply.getheaders() if k.lower() not in _HOP_BY_HOP]
            self._answer(reply.status, kept, body)
        except OSError:
            self._answer(502, [], b"upstream failed")
        finally:
            upstream.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Via", "1.1 feedserver-proxy")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, owner: ForwardProxy) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class ForwardProxy:
    """A threaded HTTP forward proxy on 127.0.0.1 for absolute-URI GETs.

    It forwards only to ``http://127.0.0.1:PORT`` (anything else gets a 403),
    adds ``Via: 1.1 feedserver-proxy`` to every answer, and records every
    request it receives. Use as a context manager.

    Attributes:
        url: ``http://127.0.0.1:PORT``, the proxy URL to give a client.
    """

    def __init__(self) -> None:
        self._server = _ProxyServer(self)
        self._lock = threading.Lock()
        self._seen: list[tuple[str, Mapping[str, str]]] = []
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="forward-proxy",
            daemon=True,
        )

    def _record(self, target: str, headers: Mapping[str, str]) -> None:
        with self._lock:
            self._seen.append((target, headers))

    @property
    def targets(self) -> list[str]:
        """The absolute URIs requested through the proxy, in order."""
        with self._lock:
            return [target for target, _ in self._seen]

    @property
    def count(self) -> int:
        """How many requests went through the proxy."""
        return len(self.targets)

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
