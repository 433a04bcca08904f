"""HTTP clients side by side: the CPU one conditional GET answered 304 costs, against nginx.

Issue 16 ("10,000 feeds on one machine") asks to choose the fetch client on numbers. A rerun
where nothing changed is, per feed, one conditional GET and its 304: this measures exactly that.

For each client, in its own subprocess (so imports and memory are its own), ``--requests`` GETs
(default 5,000) cycling over the distinct URLs served, each with the ``If-None-Match`` and
``If-Modified-Since`` of a first ``HEAD`` pass made by this script, ``--concurrency`` in flight
(default 8: feedsite's ``fetch.concurrency`` default), every answer checked to be a 304. One
client object per process, warmed up with one unmeasured pass over every URL, then one measured
pass: ``time.process_time()`` (every thread of the process) and wall time around it. Rounds
(``--repeat``, default 3) run every client once in turn, so drift hits them alike; medians.

Clients (each skipped, and said so, when it is not installed):

* ``feedsite``: feedsite's own ``_fetch.fetch_all`` (aiohttp underneath since issue #16; its
  ``concurrency`` workers, the per-host and global slots, the attempt records, ``max_age``, a
  new ``aiohttp.ClientSession`` per call as in a run), ``fetch.concurrency`` =
  ``fetch.per_host`` = the concurrency.
* ``httpx``: ``httpx.AsyncClient`` as feedsite's fetcher used it before issue #16 (its
  headers, timeouts, ``Limits``, no redirects, no ``trust_env``, HTTP/1.1; ``build_request``,
  ``send(stream=True)``, ``aread``, ``aclose`` inside ``asyncio.timeout``); the same worker
  loop as the other asyncio clients. It stays the reference column ("vs httpx").
* ``httpcore``: httpx's transport alone (``AsyncConnectionPool``): what httpx adds on top.
* ``aiohttp``: ``ClientSession`` + ``TCPConnector(limit=concurrency)``, the same timeouts:
  the floor of the ``feedsite`` row (what ``_fetch`` adds on top of aiohttp).
* ``aiosonic``: a pure-Python asyncio client that claims speed.
* ``pycurl``: libcurl's multi interface in one thread (C all the way down): a native floor.
* ``urllib3``: ``PoolManager`` in ``concurrency`` threads (the blocking alternative).
* ``asyncio``: a hand-written HTTP/1.1 request over ``asyncio`` streams, one keep-alive
  connection per worker, reading the status line, headers and ``Content-Length``: the floor of
  any asyncio client in Python.

Import time: ``import <module>`` in a fresh interpreter, timed inside it, median of 5.

Usage::

    .venv/bin/python bench/clients.py                  # its own 1,000 small files on nginx
    .venv/bin/python bench/clients.py --requests 2000 --clients httpx aiohttp

``bench/scale.py`` runs the same measurement against its 1,000 synthetic feeds and puts the
table in docs/benchmarks.md ("Scale" → "Clients").
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import median, run_proc, subprocess_env

#: Client name → (module imported, distribution whose version is reported).
CLIENTS: dict[str, tuple[str, str | None]] = {
    "feedsite": ("feedsite._fetch", "aiohttp"),
    "httpx": ("httpx", "httpx"),
    "httpcore": ("httpcore", "httpcore"),
    "aiohttp": ("aiohttp", "aiohttp"),
    "aiosonic": ("aiosonic", "aiosonic"),
    "pycurl": ("pycurl", "pycurl"),
    "urllib3": ("urllib3", "urllib3"),
    "asyncio": ("asyncio", None),
}
REQUESTS = 5000
#: feedsite's ``fetch.concurrency`` default.
CONCURRENCY = 8
REPEAT = 3
IMPORT_REPEAT = 5

# The request headers feedsite sends (``_fetch._clients``), written out so that the clients
# that do not go through feedsite send the same bytes.
USER_AGENT = "feedsite/bench (+https://github.com/feedsite/feedsite)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)
ACCEPT_ENCODING = "gzip, deflate"
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}


@dataclass(frozen=True, slots=True)
class Target:
    """One URL and the validators its first pass gave."""

    url: str
    etag: str | None
    last_modified: str | None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


# --------------------------------------------------------------------------- first pass


def head_pass(urls: Sequence[str]) -> list[Target]:
    """``HEAD`` every URL over one keep-alive connection; their ``ETag`` / ``Last-Modified``."""
    if not urls:
        return []
    parts = urlsplit(urls[0])
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    out = []
    try:
        for url in urls:
            path = urlsplit(url).path
            conn.request("HEAD", path, headers={"User-Agent": USER_AGENT})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HEAD {url}: {resp.status}")
            out.append(Target(url, resp.getheader("ETag"), resp.getheader("Last-Modified")))
    finally:
        conn.close()
    return out


# --------------------------------------------------------------------------- the workers
# Each returns a "pass" function: given the targets of one pass, fetch them all and count the
# statuses. Set-up (imports, the client object) happens before the first pass.

PassFn = Callable[[Sequence[Target]], Counter[int]]


async def _workers(
    targets: Sequence[Target], concurrency: int, one: Callable[[Target], Awaitable[int]]
) -> Counter[int]:
    """``concurrency`` coroutines pulling from one iterator; the statuses."""
    statuses: Counter[int] = Counter()
    it = iter(targets)

    async def worker() -> None:
        for t in it:
            statuses[await one(t)] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def _async_pass(
    loop: asyncio.AbstractEventLoop, concurrency: int, one: Callable[[Target], Awaitable[int]]
) -> PassFn:
    def run(targets: Sequence[Target]) -> Counter[int]:
        return loop.run_until_complete(_workers(targets, concurrency, one))

    return run


def make_feedsite(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    from feedsite._fetch import FetchRequest, NotModified, Source, fetch_all
    from feedsite.config import FetchConfig
    from feedsite.types import Validators

    settings = FetchConfig(concurrency=concurrency, per_host=concurrency, retries=0)

    def run(targets: Sequence[Target]) -> Counter[int]:
        requests = [
            FetchRequest(
                key=str(i),
                sources=(Source(label=t.url, url=t.url),),
                validators={t.url: Validators(etag=t.etag, last_modified=t.last_modified)},
            )
            for i, t in enumerate(targets)
        ]
        outcomes = loop.run_until_complete(fetch_all(requests, settings, lambda _b: True))
        statuses: Counter[int] = Counter()
        for outcome in outcomes.values():
            statuses[304 if isinstance(outcome, NotModified) else 0] += 1
        return statuses

    return run


def make_httpx(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import httpx

    client = httpx.AsyncClient(
        headers=BASE_HEADERS,
        timeout=httpx.Timeout(None, connect=10.0, read=20.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        follow_redirects=False,
        trust_env=False,
    )

    async def one(t: Target) -> int:
        async with asyncio.timeout(30):
            request = client.build_request("GET", t.url, headers=t.headers())
            response = await client.send(request, stream=True)
            try:
                await response.aread()
                return response.status_code
            finally:
                await response.aclose()

    return _async_pass(loop, concurrency, one)


def make_httpcore(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import httpcore

    pool = httpcore.AsyncConnectionPool(
        max_connections=concurrency, max_keepalive_connections=concurrency
    )
    base = list(BASE_HEADERS.items())

    async def one(t: Target) -> int:
        parts = urlsplit(t.url)
        headers = [("Host", parts.netloc), *base, *t.headers().items()]
        response = await pool.request("GET", t.url, headers=headers)
        return response.status

    return _async_pass(loop, concurrency, one)


def make_aiohttp(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import aiohttp

    async def build() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency),
            timeout=aiohttp.ClientTimeout(total=30, connect=10, sock_read=20),
            headers=BASE_HEADERS,
            trust_env=False,
        )

    session = loop.run_until_complete(build())

    async def one(t: Target) -> int:
        async with session.get(t.url, headers=t.headers(), allow_redirects=False) as response:
            await response.read()
            return response.status

    return _async_pass(loop, concurrency, one)


def make_aiosonic(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import aiosonic  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from aiosonic.pools import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        PoolConfig,
    )

    async def build() -> Any:
        connector = aiosonic.TCPConnector(
            pool_configs={":default": PoolConfig(size=concurrency, max_conn_requests=None)}
        )
        return aiosonic.HTTPClient(connector=connector)

    client = loop.run_until_complete(build())

    async def one(t: Target) -> int:
        response = await client.get(t.url, headers={**BASE_HEADERS, **t.headers()}, follow=False)
        await response.content()
        return int(response.status_code)

    return _async_pass(loop, concurrency, one)


def make_pycurl(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import pycurl  # type: ignore[import-untyped, import-not-found, unused-ignore]

    base = [f"{k}: {v}" for k, v in BASE_HEADERS.items()]
    handles = []
    for _ in range(concurrency):
        c = pycurl.Curl()
        c.setopt(pycurl.WRITEFUNCTION, len)  # discard the body
        c.setopt(pycurl.FOLLOWLOCATION, 0)
        c.setopt(pycurl.CONNECTTIMEOUT, 10)
        c.setopt(pycurl.TIMEOUT, 30)
        handles.append(c)
    multi = pycurl.CurlMulti()

    def run(targets: Sequence[Target]) -> Counter[int]:
        statuses: Counter[int] = Counter()
        queue = list(reversed(targets))
        free = list(handles)
        active = 0

        def start(c: Any) -> None:
            t = queue.pop()
            c.setopt(pycurl.URL, t.url)
            c.setopt(pycurl.HTTPHEADER, [*base, *(f"{k}: {v}" for k, v in t.headers().items())])
            multi.add_handle(c)

        while queue or active:
            while free and queue:
                start(free.pop())
                active += 1
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            _, done, failed = multi.info_read()
            for c in done:
                statuses[int(c.getinfo(pycurl.RESPONSE_CODE))] += 1
                multi.remove_handle(c)
                free.append(c)
                active -= 1
            for c, _errno, _msg in failed:
                statuses[0] += 1
                multi.remove_handle(c)
                free.append(c)
                active -= 1
            if active and not done and not failed:
                multi.select(1.0)
        return statuses

    return run


def make_urllib3(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    import urllib3

    pm = urllib3.PoolManager(
        maxsize=concurrency,
        block=True,
        headers=BASE_HEADERS,
        timeout=urllib3.Timeout(connect=10, read=20),
        retries=False,
    )
    pool = ThreadPoolExecutor(concurrency)

    def run(targets: Sequence[Target]) -> Counter[int]:
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        it = iter(targets)

        def worker() -> None:
            while True:
                with lock:
                    t = next(it, None)
                if t is None:
                    return
                headers = {**BASE_HEADERS, **t.headers()}
                r = pm.request("GET", t.url, headers=headers, redirect=False)
                with lock:
                    statuses[r.status] += 1

        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
        return statuses

    return run


def make_asyncio(concurrency: int, loop: asyncio.AbstractEventLoop) -> PassFn:
    base = "".join(f"{k}: {v}\r\n" for k, v in BASE_HEADERS.items())
    conns: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def worker(targets: Any, statuses: Counter[int], slot: int) -> None:
        for t in targets:
            parts = urlsplit(t.url)
            if slot not in conns:
                conns[slot] = await asyncio.open_connection(parts.hostname, parts.port)
            reader, writer = conns[slot]
            extra = "".join(f"{k}: {v}\r\n" for k, v in t.headers().items())
            writer.write(
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{base}{extra}\r\n".encode(
                    "latin-1"
                )
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length and status != 304:
                await reader.readexactly(length)
            statuses[status] += 1

    def run(targets: Sequence[Target]) -> Counter[int]:
        statuses: Counter[int] = Counter()
        it = iter(targets)

        async def all_workers() -> None:
            await asyncio.gather(*(worker(it, statuses, i) for i in range(concurrency)))

        loop.run_until_complete(all_workers())
        return statuses

    return run


MAKERS: dict[str, Callable[[int, asyncio.AbstractEventLoop], PassFn]] = {
    "feedsite": make_feedsite,
    "httpx": make_httpx,
    "httpcore": make_httpcore,
    "aiohttp": make_aiohttp,
    "aiosonic": make_aiosonic,
    "pycurl": make_pycurl,
    "urllib3": make_urllib3,
    "asyncio": make_asyncio,
}


def worker_main(name: str, targets_file: Path, requests: int, concurrency: int) -> int:
    """In the subprocess: build the client, warm up, one measured pass; JSON to stdout."""
    data = json.loads(targets_file.read_text(encoding="utf-8"))
    targets = [Target(d["url"], d["etag"], d["last_modified"]) for d in data]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    run = MAKERS[name](concurrency, loop)
    warm = run(targets)
    plan = [targets[i % len(targets)] for i in range(requests)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    statuses = run(plan)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        json.dumps(
            {
                "cpu": cpu,
                "wall": wall,
                "statuses": {str(k): v for k, v in statuses.items()},
                "warm": {str(k): v for k, v in warm.items()},
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- the parent


@dataclass
class ClientResult:
    """One client's samples."""

    name: str
    version: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    imports: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    skipped: str | None = None


def _available(name: str) -> str | None:
    """None if the client can be imported here, else why not."""
    top = CLIENTS[name][0].partition(".")[0]
    return None if importlib.util.find_spec(top) is not None else f"`{top}` not installed"


def _version(name: str) -> str:
    dist = CLIENTS[name][1]
    if name == "asyncio":
        return f"Python {platform.python_version()}"
    if dist is None:
        return "—"
    try:
        v = version(dist)
    except PackageNotFoundError:
        return "?"
    if name == "feedsite":
        try:
            return f"feedsite {version('feedsite')} (aiohttp {v})"
        except PackageNotFoundError:
            return f"aiohttp {v}"
    if name == "pycurl":
        try:
            import pycurl  # type: ignore[import-untyped, import-not-found, unused-ignore]

            libcurl = str(pycurl.version).split()[1]
            return f"{v} ({libcurl})"
        except ImportError:
            return v
    return v


def import_seconds(module: str, env: dict[str, str]) -> float:
    """``import module`` timed inside a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def measure(
    base_url: str,
    paths: Sequence[str],
    scratch: Path,
    requests: int = REQUESTS,
    concurrency: int = CONCURRENCY,
    repeat: int = REPEAT,
    names: Sequence[str] = tuple(CLIENTS),
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
) -> list[ClientResult]:
    """Run every client ``repeat`` times over ``paths`` on the server at ``base_url``."""
    env = subprocess_env(scratch)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    urls = [base_url + p.lstrip("/") for p in paths]
    targets = head_pass(urls)
    results = {n: ClientResult(n, _version(n)) for n in names}
    for name, result in results.items():
        result.skipped = _available(name)
        if result.skipped is None:
            import_seconds(CLIENTS[name][0], env)  # warm-up: fills the bytecode cache
            result.imports = [import_seconds(CLIENTS[name][0], env) for _ in range(IMPORT_REPEAT)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=scratch, delete=False) as f:
        json.dump(
            [{"url": t.url, "etag": t.etag, "last_modified": t.last_modified} for t in targets], f
        )
        targets_file = Path(f.name)
    try:
        for r in range(repeat):
            for name, result in results.items():
                if result.skipped:
                    continue
                cmd = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    name,
                    "--targets",
                    str(targets_file),
                    "--requests",
                    str(requests),
                    "--concurrency",
                    str(concurrency),
                ]
                proc = run_proc(cmd, env=env, timeout=1800)
                if proc.returncode != 0:
                    tail = proc.stderr.strip()[-300:]
                    result.skipped = f"failed (exit {proc.returncode}): {tail}"
                    log(f"clients: {name} failed:\n{proc.stderr}")
                    continue
                data = json.loads(proc.stdout.strip().splitlines()[-1])
                statuses = Counter({int(k): v for k, v in data["statuses"].items()})
                if statuses != Counter({304: requests}):
                    raise SystemExit(f"clients: {name}: expected {requests} × 304, got {statuses}")
                result.cpu.append(data["cpu"])
                result.wall.append(data["wall"])
                result.rss_kib.append(proc.maxrss_kib)
                result.statuses = statuses
                log(
                    f"clients round {r + 1}/{repeat}: {name:9} "
                    f"{data['cpu'] / requests * 1e6:7.0f} µs CPU/request, "
                    f"{requests / data['wall']:7.0f} requests/s"
                )
    finally:
        targets_file.unlink(missing_ok=True)
    return list(results.values())


def table(results: Sequence[ClientResult], requests: int, concurrency: int) -> str:
    """The Markdown table: µs of CPU per request, requests/s, import time, peak RSS."""
    done = [r for r in results if not r.skipped and r.cpu]
    ref = next((r for r in done if r.name == "httpx"), None)
    ref_cpu = median(ref.cpu) if ref else None
    head = (
        "client",
        "version",
        "CPU µs / request",
        "vs httpx",
        "requests / s (wall)",
        "import ms",
        "peak RSS MB",
    )
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for r in sorted(done, key=lambda r: median(r.cpu)):
        cpu = median(r.cpu)
        lines.append(
            "| "
            + " | ".join(
                (
                    f"`{r.name}`",
                    r.version,
                    f"{cpu / requests * 1e6:,.0f}",
                    f"{cpu / ref_cpu:.2f}×" if ref_cpu else "—",
                    f"{requests / median(r.wall):,.0f}",
                    f"{median(r.imports) * 1e3:.0f}" if r.imports else "—",
                    f"{max(r.rss_kib) * 1024 / 1e6:.0f}",
                )
            )
            + " |"
        )
    for r in results:
        if r.skipped:
            lines.append(f"| `{r.name}` | {r.version} | {r.skipped} | | | | |")
    rounds = max((len(r.cpu) for r in done), default=0)
    lines += [
        "",
        f"{requests:,} conditional GETs per pass, all answered 304 by nginx, {concurrency} in "
        f"flight; median of {rounds} rounds (one subprocess per client and round, warmed up "
        "by one unmeasured pass). CPU is `time.process_time()` of the client's process over "
        "the measured pass (all threads); nginx's own CPU is not in it. Every round's CPU µs / "
        "request: "
        + "; ".join(
            f"{r.name} " + " / ".join(f"{c / requests * 1e6:.0f}" for c in r.cpu) for r in done
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _small_feeds(folder: Path, n: int) -> list[str]:
    """``n`` small RSS files (about 2 KB each) for the standalone run."""
    paths = []
    for i in range(n):
        rel = f"f/{i // 100:03d}/{i}.xml"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        items = "".join(
            f"<item><guid>urn:c:{i}:{k}</guid><title>条目 {i}-{k}</title>"
            f"<description>第 {k} 条，来源 {i}。</description></item>"
            for k in range(20)
        )
        path.write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>feed {i}</title>{items}</channel></rss>",
            encoding="utf-8",
        )
        paths.append(rel)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=REQUESTS, help="GETs per measured pass")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="in flight")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="rounds (median)")
    parser.add_argument("--files", type=int, default=1000, help="distinct URLs served")
    parser.add_argument("--clients", nargs="+", choices=tuple(CLIENTS), default=list(CLIENTS))
    parser.add_argument("--worker", choices=tuple(CLIENTS), help=argparse.SUPPRESS)
    parser.add_argument("--targets", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.targets, args.requests, args.concurrency)

    from _nginx import Nginx, NginxError

    scratch = Path(tempfile.mkdtemp(prefix="bench-clients-"))
    try:
        paths = _small_feeds(scratch / "feeds", args.files)
        with Nginx(scratch / "feeds") as server:
            results = measure(
                server.base_url,
                paths,
                scratch,
                args.requests,
                args.concurrency,
                args.repeat,
                args.clients,
            )
            print(f"nginx: {server.version()}\n")
        print(table(results, args.requests, args.concurrency))
    except NginxError as exc:
        sys.exit(str(exc))
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
