"""Audit: the owner's secrets on the aiohttp fetch paths and in ``feedsite watch``.

Every test serves feeds on loopback and gives feedsite a config full of canary secrets
(instance credentials, ``access_key``, a feed URL's user:password and ``?token=``, proxy
credentials), and checks that no secret is printed, stored as an error or published.
(Written as an audit: the three leaks it found are fixed, each test names its guarantee.)

What is grepped: what the commands print (text and ``--json``), ``feedsite status`` (also
while a watch runs), the error texts the state stores (``feeds.last_error``,
``instances.last_error``), the Hexo posts and the native site. The state's identity
columns (``preferred_source``, ``validators.source``, ``instances.label``) hold the raw
instance/feed URL by design (docs/security.md: the state is the owner's record, never
published) and are not grepped.
"""

from __future__ import annotations

import functools
import signal
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import parse_qs

from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, ForwardProxy, RecordedRequest, Response
from tests.test_secrets import feedsite, leaks, refused_port
from tests.test_watch import stop, wait_until, watching

SECRETS = (
    "CANARYUSER",
    "CANARYPASS",
    "CANARYKEY",
    "CANARYU2",
    "CANARYP2",
    "CANARYTOKEN",
    "CANARYPXU",
    "CANARYPXPW",
)


# -- helpers -----------------------------------------------------------------------------


class RawServer:
    """A loopback TCP server answering every request with ``reply(request_bytes)``."""

    def __init__(self, reply: Callable[[bytes], bytes]) -> None:
        self._reply = reply
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(self._reply(data))
                except OSError:
                    pass

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


def bad_header_echo(request: bytes) -> bytes:
    """A response head aiohttp cannot parse, echoing the request line (with its query)."""
    line = request.split(b"\r\n", 1)[0]
    return b"HTTP/1.1 200 OK\r\nBad Header " + line + b"\r\nContent-Length: 0\r\n\r\n"


def chain(request: RecordedRequest) -> Response:
    """An endless chain of distinct redirects, each carrying the token."""
    n = int(parse_qs(request.query).get("n", ["0"])[0])
    return Response.redirect(f"/chain?n={n + 1}&token=CANARYTOKEN")


def atom_relative(prefix: str) -> bytes:
    """Atom: relative links resolve against the document URL (RFC 4287), i.e. the fetch
    URL after redirects -- the place a ``?key=`` or ``user:pass@`` could be copied from."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{prefix}</title><id>urn:{prefix}</id>
<updated>2026-11-10T08:00:00Z</updated><link href=""/>
<entry><title>{prefix} one</title><id>urn:{prefix}:1</id><updated>2026-11-10T08:00:00Z</updated>
<link href="article/1?x=1"/>
<content type="html"><![CDATA[<p><img src="pic.jpg"> <a href="">self</a>
<a href="?page=2">next</a> <a href="#top">top</a> <img data-src="lazy.png"></p>]]></content>
</entry></feed>""".encode()


def state_errors(config: Path) -> list[str]:
    """The error texts the state stores (feeds and instances)."""
    db = load_config(config).state_path
    with closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT last_error FROM feeds").fetchall()
        rows += con.execute("SELECT last_error FROM instances").fetchall()
    return [r[0] for r in rows if r[0]]


def published(folder: Path) -> dict[str, str]:
    """Every Hexo post and native-site file, by path, as text (path included)."""
    out: dict[str, str] = {}
    for root in (folder / "blog" / "source" / "_posts", folder / "public"):
        for p in root.rglob("*") if root.is_dir() else ():
            if p.is_file():
                rel = p.relative_to(folder).as_posix()
                out[rel] = rel + "\n" + p.read_bytes().decode("utf-8", "replace")
    return out


def found(where: dict[str, str], canaries: tuple[str, ...] = SECRETS) -> dict[str, list[str]]:
    hits = {name: leaks(text, canaries) for name, text in where.items()}
    return {name: what for name, what in hits.items() if what}


def base_config(extra: str, feeds: str) -> str:
    return (
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}\n"
        "native: {out: ./public, base_url: 'https://news.example.org'}\n"
        "images: {mode: hotlink}\n"
        "fetch: {timeout: 1, connect_timeout: 1, read_timeout: 1, retries: 0}\n"
        f"{extra}\nfeeds:\n{feeds}"
    )


@contextmanager
def servers() -> Iterator[tuple[FeedServer, ForwardProxy, RawServer]]:
    with FeedServer() as s, ForwardProxy() as px, RawServer(bad_header_echo) as raw:
        yield s, px, raw


def error_path_config(s: FeedServer, px: ForwardProxy, raw: RawServer) -> str:
    """Canary secrets on every aiohttp error path the fetcher turns into a cause."""
    host = s.url("/").split("://", 1)[1].rstrip("/")
    port = host.rsplit(":", 1)[1]
    s.route("/gone/route", Response(404, "not found"))
    s.route("/drop", Response(drop=True))
    s.route("/trunc", Response.rss("<rss>xxxx", content_length=5000))
    s.route("/reset", Response.rss("<rss>" + "x" * 5000, reset_after=100))
    s.route("/hang", Response.hang(5))
    s.route("/loop", Response.redirect("/loop?token=CANARYTOKEN"))
    s.route("/chain", chain)
    s.route("/badloc", Response.redirect("http://[::1"))
    s.route("/ftp", Response.redirect("ftp://CANARYU2:CANARYP2@127.0.0.1/x?token=CANARYTOKEN"))
    s.route(
        "/tocreds",
        Response.redirect(
            f"http://CANARYU2:CANARYP2@127.0.0.1:{port}/nf?key=CANARYKEY&code=CANARYKEY"
        ),
    )
    s.route("/tls", Response.redirect(f"https://127.0.0.1:{port}/nf?key=CANARYKEY"))
    s.route("/gone", Response(404))
    dead = refused_port()
    u2 = f"CANARYU2:CANARYP2@{host}"
    feeds = {
        "drop": f"http://{u2}/drop?token=CANARYTOKEN",
        "trunc": f"http://{u2}/trunc?token=CANARYTOKEN",
        "reset": f"http://{u2}/reset?token=CANARYTOKEN",
        "hang": f"http://{u2}/hang?token=CANARYTOKEN",
        "loop": f"http://{u2}/loop?token=CANARYTOKEN",
        "chain": f"http://{u2}/chain?token=CANARYTOKEN",
        "badloc": f"http://{u2}/badloc?token=CANARYTOKEN",
        "ftp": f"http://{u2}/ftp?token=CANARYTOKEN",
        "tocreds": f"http://{u2}/tocreds?token=CANARYTOKEN",
        "tls": f"http://{u2}/tls?token=CANARYTOKEN",
        "refused": f"http://CANARYU2:CANARYP2@127.0.0.1:{dead}/x?token=CANARYTOKEN",
        "badhead": f"http://CANARYU2:CANARYP2@127.0.0.1:{raw.port}/raw?token=CANARYTOKEN",
    }
    lines = [f'      {name}: {{url: "{url}"}}' for name, url in feeds.items()]
    lines.append(
        f'      pxdead: {{url: "http://{host}/gone?token=CANARYTOKEN",'
        f' proxy: "http://CANARYPXU:CANARYPXPW@127.0.0.1:{refused_port()}"}}'
    )
    pxhost = px.url.split("://", 1)[1]
    lines.append(
        f'      px404: {{url: "http://{host}/gone?token=CANARYTOKEN",'
        f' proxy: "http://CANARYPXU:CANARYPXPW@{pxhost}"}}'
    )
    lines.append(
        f'      pxtls: {{url: "https://{host}/gone?token=CANARYTOKEN",'
        f' proxy: "http://CANARYPXU:CANARYPXPW@{pxhost}"}}'
    )
    rsshub = (
        "rsshub:\n"
        f'  instances: ["http://CANARYUSER:CANARYPASS@127.0.0.1:{dead}",'
        f' "http://CANARYUSER:CANARYPASS@{host}"]\n'
        "  access_key: CANARYKEY\n"
    )
    tree = "  c:\n    routes:\n      nf: /gone/route\n    urls:\n" + "\n".join(lines) + "\n"
    return base_config(rsshub, tree)


# -- guarantees that hold ------------------------------------------------------------------


def test_aiohttp_error_paths_print_and_store_no_secret(tmp_path: Path) -> None:
    """Every aiohttp failure (404 after failover, refused, disconnect, truncated body,
    reset, timeout, redirect loop, too many redirects, bad Location, non-http Location,
    Location with credentials and ``key=``/``code=``, TLS to a plain port, an unparsable
    response head echoing the request line, proxy refused / 404 / CONNECT refused, proxy
    with credentials) is redacted in `run`, `run --json`, `status`, `status --json` and in
    the error texts the state stores."""
    with servers() as (s, px, raw):
        config = tmp_path / "feedsite.yaml"
        config.write_text(error_path_config(s, px, raw), encoding="utf-8")
        printed: dict[str, str] = {}
        for args in (("run", "--json"), ("run",), ("status",), ("status", "--json")):
            _code, text = feedsite(*args, "-c", str(config), timeout=60)
            assert "Traceback" not in text, text[-4000:]
            printed[" ".join(args)] = text
        # The error paths ran.
        out = printed["run --json"]
        for cause in (
            "HTTP 404",
            "Connection refused",
            "redirect loop",
            "too many redirects",
            "unsupported URL",
            "timed out",
            "protocol error",
            "proxy",
        ):
            assert cause in out, (cause, out)
        assert "***@127.0.0.1" in out and "token=***" in out
    stored = {f"state last_error {i}": e for i, e in enumerate(state_errors(config))}
    assert not found(printed | stored)


def test_redirect_to_secret_url_is_neither_published_nor_printed(tmp_path: Path) -> None:
    """A feed that redirects to a URL with ``?token=``/``?key=`` or ``user:pass@``: the
    final URL is only a base for relative links in its public form (Atom resolves against
    it); no post, native page, Atom feed or OPML holds a canary, nor does what is printed."""
    with FeedServer() as s:
        host = s.url("/").split("://", 1)[1].rstrip("/")
        s.route("/r1", Response.redirect("/atom1.xml?token=CANARYTOKEN&key=CANARYKEY"))
        s.route(
            "/r2", Response.redirect(f"http://CANARYU2:CANARYP2@{host}/atom2.xml?code=CANARYKEY")
        )
        s.route(
            "/atom1.xml", Response.rss(atom_relative("one"), content_type="application/atom+xml")
        )
        s.route(
            "/atom2.xml", Response.rss(atom_relative("two"), content_type="application/atom+xml")
        )
        config = tmp_path / "feedsite.yaml"
        feeds = (
            "  c:\n    s:\n"
            f'      r1: {{url: "http://CANARYUSER:CANARYPASS@{host}/r1?token=CANARYTOKEN"}}\n'
            f'      r2: {{url: "http://{host}/r2"}}\n'
        )
        config.write_text(base_config("", feeds), encoding="utf-8")
        printed: dict[str, str] = {}
        for args in (("run", "--json"), ("build", "--target", "native"), ("status", "--json")):
            code, text = feedsite(*args, "-c", str(config), timeout=60)
            assert code == 0, text[-4000:]
            printed[" ".join(args)] = text
        assert '"new": 1' in printed["run --json"], printed["run --json"]
    files = published(tmp_path)
    assert any(name.endswith(".md") for name in files), "no post written"
    assert "public/index.html" in files
    assert not found(printed | files)


def test_credentials_are_not_sent_to_another_origin_on_redirect(tmp_path: Path) -> None:
    """aiohttp turns ``user:pass@`` into an Authorization header; a redirect to another
    origin (absolute or scheme-relative Location) must not carry it there."""
    with FeedServer() as a, FeedServer() as b:
        b.route("/feed", Response.rss(rss([Entry("x", "X")])))
        other = b.url("/feed")
        a.route("/abs", Response.redirect(other))
        a.route("/schemeless", Response.redirect("//" + other.split("://", 1)[1]))
        host = a.url("/").split("://", 1)[1].rstrip("/")
        feeds = (
            "  c:\n    s:\n"
            f'      abs: {{url: "http://CANARYUSER:CANARYPASS@{host}/abs"}}\n'
            f'      schemeless: {{url: "http://CANARYUSER:CANARYPASS@{host}/schemeless"}}\n'
        )
        config = tmp_path / "feedsite.yaml"
        config.write_text(base_config("", feeds), encoding="utf-8")
        code, text = feedsite("run", "--json", "-c", str(config), timeout=60)
        assert code == 0, text
        assert a.requests_for("/abs")[0].header("Authorization")  # sent to its own origin
        sent = [r.header("Authorization") for r in b.requests]
        assert len(sent) == 2 and sent == [None, None], sent


def test_watch_turns_json_and_status_while_running_print_no_secret(tmp_path: Path) -> None:
    """`feedsite watch` (text, then `--json` via a second process is the same `to_json`):
    per-turn failure lines, the build line, `status` and `status --json` while it runs,
    and the stop line hold no canary."""
    with servers() as (s, px, raw):
        config = tmp_path / "feedsite.yaml"
        text = error_path_config(s, px, raw).replace(
            "images: {mode: hotlink}\n",
            "images: {mode: hotlink}\nwatch: {interval: 1m, min_interval: 1m, build_every: 1s}\n",
        )
        config.write_text(text, encoding="utf-8")
        with watching(tmp_path) as w:
            wait_until(lambda: "feeds:" in w.stdout(), 20, w)
            during = {
                " ".join(args): feedsite(*args, "-c", str(config), timeout=30)[1]
                for args in (("status",), ("status", "--json"))
            }
            stop(w)
        printed = {"watch stdout": w.stdout(), "watch stderr": w.stderr(), **during}
        assert "failed: " in printed["watch stderr"] and "***@127.0.0.1" in printed["watch stderr"]
    assert not found(printed)


# -- leaks ----------------------------------------------------------------------------------


def test_an_access_key_with_a_delimiter_is_sent_encoded_and_never_printed(
    tmp_path: Path,
) -> None:
    """The access key is percent-encoded into the URL (``feedsite._url.with_param``):
    ``redact`` stops a value at ``;``, ``&``, ``#``, whitespace or a quote, so a raw
    ``CANARYK1;CANARYKEY`` was printed as ``key=***;CANARYKEY`` in every failure."""
    with FeedServer() as s:
        s.route("/gone/route", Response(404, "not found"))
        config = tmp_path / "feedsite.yaml"
        config.write_text(
            base_config(
                f'rsshub: {{instances: ["{s.url("/").rstrip("/")}"],'
                ' access_key: "CANARYK1;CANARYKEY"}',
                "  c:\n    s:\n      nf: /gone/route\n",
            ),
            encoding="utf-8",
        )
        printed = {
            " ".join(a): feedsite(*a, "-c", str(config), timeout=60)[1]
            for a in (("run", "--json"), ("run",), ("status", "--json"))
        }
        # the server reads the key whole (RSSHub decodes its query)
        assert parse_qs(s.requests_for("/gone/route")[0].query) == {"key": ["CANARYK1;CANARYKEY"]}
    stored = {f"state last_error {i}": e for i, e in enumerate(state_errors(config))}
    assert not found(printed | stored, ("CANARYK1", "CANARYKEY"))


def test_an_error_page_title_echoing_the_url_is_stored_redacted(tmp_path: Path) -> None:
    """A non-feed 200 (an instance's HTML error page) whose ``<title>`` echoes the request
    URL: the title is redacted where the cause is made (``_fetch._http._not_a_feed``), so
    ``feeds.last_error`` holds ``?key=***`` (docs/security.md: redacted when it is made)."""
    with FeedServer() as s:
        s.route(
            "/page/route",
            Response.html("<html><title>Error at /page/route?key=CANARYKEY</title></html>"),
        )
        config = tmp_path / "feedsite.yaml"
        config.write_text(
            base_config(
                f'rsshub: {{instances: ["{s.url("/").rstrip("/")}"], access_key: CANARYKEY}}',
                "  c:\n    s:\n      page: /page/route\n",
            ),
            encoding="utf-8",
        )
        _code, text = feedsite("run", "--json", "-c", str(config), timeout=60)
        assert "not a feed" in text, text
    stored = {f"state last_error {i}": e for i, e in enumerate(state_errors(config))}
    assert not found({"run --json": text} | stored)


BROKEN = {
    # A proxy written without its scheme (curl's form): quoted whole, no "://" to redact.
    "proxy_without_scheme": (
        "retries: 0}",
        'retries: 0, proxy: "CANARYPXU:CANARYPXPW@127.0.0.1:3128"}',
    ),
    # A long instance password: quote() cuts at 80 characters, before the "@".
    "long_instance_password": (
        "instances: [",
        'instances: ["https://admin:CANARYPASS' + "x" * 70 + '@rsshub.example.org/?v=1", ',
    ),
    # A raw "#" in a feed URL's password: the userinfo regex stops at "#".
    "hash_in_password": ("      nf:", '      bad: "http://u:CANARYP2#x@127.0.0.1:1/f"\n      nf:'),
}


def test_a_config_error_on_sighup_quotes_no_secret(tmp_path: Path) -> None:
    """On SIGHUP a config that does not load is reported (``problem: config not reloaded,
    the old one stays: ...``), quoting the offending value as every ``config error:`` does:
    through ``config._quote_url``, which hides everything before a URL's last ``@`` (a proxy
    without a scheme, a raw ``#`` in a password) and secret query values before cutting the
    text to 80 characters (a long password's prefix)."""
    with FeedServer() as s:
        s.route("/gone/route", Response(404, "not found"))
        config = tmp_path / "feedsite.yaml"
        good = base_config(
            f'rsshub: {{instances: ["{s.url("/").rstrip("/")}"]}}\n'
            "watch: {interval: 1m, min_interval: 1m, build_every: 1m}",
            "  c:\n    s:\n      nf: /gone/route\n",
        )
        config.write_text(good, encoding="utf-8")
        lines: dict[str, str] = {}
        with watching(tmp_path) as w:
            wait_until(lambda: "feeds:" in w.stdout(), 20, w)
            for n, (name, (old, new)) in enumerate(BROKEN.items(), 1):
                assert old in good, name
                config.write_text(good.replace(old, new, 1), encoding="utf-8")
                w.proc.send_signal(signal.SIGHUP)
                reported = functools.partial(
                    lambda k: w.stderr().count("config not reloaded") >= k, n
                )
                wait_until(reported, 10, w)
                lines[name] = w.stderr().strip().splitlines()[-1]
            config.write_text(good, encoding="utf-8")
            stop(w)
    assert all("config not reloaded" in line for line in lines.values()), lines
    assert not found(lines, ("CANARYPXPW", "CANARYPASS", "CANARYP2")), lines
