"""Ingest benchmark: ``feedsite run`` over 200 real feeds, against a floor measured alongside it.

What is measured, all in one command and each repeated ``--repeat`` times (medians reported):

* **floor**: the work no feed-to-Hexo tool can avoid, done in this process with the same
  libraries: read every corpus file from disk, ``lxml.etree.fromstring`` it with a recover
  parser, take each entry's body (``content:encoded`` / Atom ``content`` / ``description`` /
  ``summary``), ``nh3.clean`` it, and write one file per entry through feedsite's own
  :class:`~feedsite._targets._writer.Writer` (atomic, then one ``sync()``) into a fresh folder
  -- exactly as many files as the real run writes, the cleaned body as the payload.
* **full run**: ``feedsite run -c <config> --json`` as a subprocess on a fresh state and a fresh
  blog, every feed served by a loopback HTTP server in this process, ``items_per_feed`` above
  the largest feed so every entry becomes a post. Wall time of the subprocess, so Python
  startup, imports, HTTP, SQLite and rendering are all in it.
* **304 rerun**: the same command again on that state; every feed answers 304 Not Modified.
* **startup**: ``feedsite --version`` and ``python -c "import feedsite.cli, feedsite._run"``,
  because a rerun is mostly startup.

Why a floor and ratios: the benchmark machine (2 shared cores) is noisy, so absolute seconds
move between runs; the ratio to a floor measured in the same command moves much less. Targets
(from the issue): full run within 3x the floor; the 304 rerun under 5 % of the full run.

Peak memory is each feedsite subprocess's own peak RSS (``/usr/bin/time -f %M``).

``--profile DIR`` also runs the full run and the rerun once each under ``cProfile``
(``DIR/full.prof``, ``DIR/rerun.prof``) and prints the top functions by cumulative and own time.

Usage::

    .venv/bin/python bench/ingest.py                 # print the table
    .venv/bin/python bench/ingest.py --write-docs    # and rewrite docs/benchmarks.md "Ingest"
    .venv/bin/python bench/ingest.py --repeat 0 --profile /tmp/prof   # profile only
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nh3
from _common import Proc, median, mib, replace_section, run_proc, subprocess_env
from lxml import etree

from feedsite._targets._writer import Writer

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "realworld" / "feeds"
DOCS = REPO / "docs" / "benchmarks.md"
SECTION = "## Ingest"

#: Targets from the issue.
FULL_TARGET = 3.0  # full run / floor
RERUN_TARGET = 0.05  # 304 rerun / full run

#: Above the largest feed of the corpus (1,046 entries), so every entry is taken.
ITEMS_PER_FEED = 10000

DOCS_INTRO = """\
# Benchmarks

Machine: 2 shared cores (a noisy CI-class VM). Every number is the median of several repeats,
and every target is a ratio against a baseline measured in the same command, because absolute
seconds on this machine move from one run to the next while the ratios move much less.

"""

# --------------------------------------------------------------------------- loopback server


@dataclass(frozen=True, slots=True)
class Doc:
    """One served feed: its bytes and validators."""

    body: bytes
    etag: str
    last_modified: str
    mtime: int


def load_corpus(corpus: Path) -> dict[str, Doc]:
    """Every file of ``corpus``, by name, with a strong ETag and a Last-Modified."""
    docs: dict[str, Doc] = {}
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        body = path.read_bytes()
        mtime = int(path.stat().st_mtime)
        docs[path.name] = Doc(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            last_modified=formatdate(mtime, usegmt=True),
            mtime=mtime,
        )
    return docs


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog (5) can overflow when 8+ connections open at once, and a dropped
    # SYN costs a 1 s retransmit: that would measure the kernel, not feedsite.
    request_queue_size = 128

    def __init__(self, docs: dict[str, Doc]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.docs = docs
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """Serves ``/<name>``; 304 on a matching validator. Each response is one ``send``.

    Headers and body go out in a single write with Nagle off: two writes (the stdlib's
    ``end_headers`` then the body) meet the client's delayed ACK and cost tens of
    milliseconds per response, which would be the server's time, not feedsite's.
    """

    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        doc = self.server.docs.get(self.path.split("?", 1)[0].lstrip("/"))
        if doc is None:
            self._send(404, "Not Found", [("Content-Type", "text/plain")], b"not found")
            return
        validators = [("ETag", doc.etag), ("Last-Modified", doc.last_modified)]
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if _not_modified(doc, inm, ims):
            self._send(304, "Not Modified", validators, None)
        else:
            self._send(200, "OK", [("Content-Type", "application/xml"), *validators], doc.body)

    def _send(
        self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> None:
        with self.server.lock:
            self.server.statuses[status] += 1
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body if body else head)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _not_modified(doc: Doc, if_none_match: str | None, if_modified_since: str | None) -> bool:
    # RFC 9110 13.1.3: If-Modified-Since is ignored when If-None-Match is present.
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or doc.etag in tags
    if if_modified_since is not None:
        try:
            return parsedate_to_datetime(if_modified_since).timestamp() >= doc.mtime
        except (TypeError, ValueError):
            return False
    return False


@contextmanager
def serve(docs: dict[str, Doc]) -> Iterator[_Server]:
    """Serve ``docs`` at ``http://127.0.0.1:<port>/<name>`` for the duration of the block."""
    server = _Server(docs)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------- floor

_RECOVER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
_RECOVER_UTF8 = etree.XMLParser(
    recover=True, resolve_entities=False, no_network=True, encoding="utf-8"
)
_BODY_ORDER = ("encoded", "content", "description", "summary")


def _bodies_xml(data: bytes) -> list[str]:
    root = etree.fromstring(data, _RECOVER)
    if root is None:  # e.g. a UTF-8 file that declares UTF-16
        root = etree.fromstring(data, _RECOVER_UTF8)
    if root is None:
        return []
    bodies = []
    for entry in root.iter("{*}item", "{*}entry"):  # any namespace, or none
        found: dict[str, etree._Element] = {}
        for child in entry:
            if isinstance(child.tag, str):
                found.setdefault(etree.QName(child).localname, child)
        el = next((found[k] for k in _BODY_ORDER if k in found), None)
        if el is None:
            bodies.append("")
        elif len(el):  # Atom type="xhtml": the markup is child elements
            bodies.append("".join(etree.tostring(c, encoding="unicode") for c in el))
        else:
            bodies.append(el.text or "")
    return bodies


def _bodies_json(data: bytes) -> list[str]:
    try:
        items = json.loads(data).get("items") or []
    except (ValueError, AttributeError):
        return []
    return [
        str(i.get("content_html") or i.get("content_text") or i.get("summary") or "")
        for i in items
        if isinstance(i, dict)
    ]


@dataclass(frozen=True, slots=True)
class FloorResult:
    """One floor measurement, with its phases."""

    seconds: float
    parse_clean: float
    write: float
    sync: float
    entries: int
    written: int


def floor_once(paths: Sequence[Path], n_files: int, out: Path) -> FloorResult:
    """Read, parse, clean every entry, then write ``n_files`` files through the Writer and sync.

    Files go to ``bench/<site>/<feed>/<n>.md`` like the real layout; if the corpus yields
    fewer entries than ``n_files`` the rest reuse bodies in turn (so the count always matches
    the real run), and if it yields more, the extra ones are parsed and cleaned but not written.
    """
    started = time.perf_counter()
    payloads: list[tuple[str, bytes]] = []
    for path in paths:
        data = path.read_bytes()
        is_json = data.lstrip()[:1] == b"{"
        bodies = _bodies_json(data) if is_json else _bodies_xml(data)
        name = path.name
        for i, body in enumerate(bodies):
            payloads.append((f"bench/{name[:2]}/{name}/{i}.md", nh3.clean(body).encode()))
    cleaned = time.perf_counter()
    writer = Writer(out)
    for k in range(n_files):
        if k < len(payloads):
            relpath, blob = payloads[k]
        else:
            relpath, blob = f"bench/extra/{k}.md", payloads[k % len(payloads)][1]
        writer.write(relpath, blob)
    written = time.perf_counter()
    writer.sync()
    done = time.perf_counter()
    return FloorResult(
        seconds=done - started,
        parse_clean=cleaned - started,
        write=written - cleaned,
        sync=done - written,
        entries=len(payloads),
        written=n_files,
    )


# --------------------------------------------------------------------------- subprocesses


def feedsite_cmd() -> list[str]:
    """The ``feedsite`` console script next to this interpreter (else ``python -m feedsite``)."""
    script = Path(sys.executable).parent / "feedsite"
    return [str(script)] if script.exists() else [sys.executable, "-m", "feedsite"]


def write_config(workdir: Path, base_url: str, names: Sequence[str], concurrency: int) -> Path:
    """A feedsite.yaml with one feed per corpus file: ``bench › <2 chars> › <name>``."""
    lines = [
        "site:",
        f"  hexo_root: {json.dumps(str(workdir / 'blog'))}",
        "  timezone: UTC",
        "  profile: default",
        f"defaults: {{items_per_feed: {ITEMS_PER_FEED}}}",
        # The 200 feeds come from 200 different sites; here one loopback server stands
        # in for all of them, so the per-host limit is lifted to the global one.
        f"fetch: {{concurrency: {concurrency}, per_host: {concurrency}}}",
        # Images are not downloaded: their stage is bench/images.py's, and the corpus's image
        # hosts are on the internet, which this bench must not need (without it every image
        # fails after its retries, timing the resolver and the backoff, not feedsite).
        "images: {mode: hotlink}",
        "feeds:",
        "  bench:",
    ]
    by_site: dict[str, list[str]] = {}
    for name in names:
        by_site.setdefault(name[:2], []).append(name)
    for site, feeds in by_site.items():
        lines.append(f"    {json.dumps(site)}:")
        lines.extend(f"      {json.dumps(n)}: {{url: {json.dumps(base_url + n)}}}" for n in feeds)
    config = workdir / "feedsite.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def summary_of(proc: Proc, what: str) -> dict[str, Any]:
    """The ``--json`` summary of a feedsite run (exits with the output if there is none)."""
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        sys.exit(f"{what}: exit {proc.returncode}, no JSON summary\n{proc.stdout}\n{proc.stderr}")
    return data


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Samples:
    """Every repeat's measurements."""

    floor: list[FloorResult] = field(default_factory=list)
    full: list[Proc] = field(default_factory=list)
    rerun: list[Proc] = field(default_factory=list)
    full_json: list[dict[str, Any]] = field(default_factory=list)
    rerun_json: list[dict[str, Any]] = field(default_factory=list)
    version: list[Proc] = field(default_factory=list)
    imports: list[Proc] = field(default_factory=list)
    server_full: list[Counter[int]] = field(default_factory=list)
    server_rerun: list[Counter[int]] = field(default_factory=list)
    state_bytes: list[int] = field(default_factory=list)


def measure(
    docs: dict[str, Doc], corpus: Path, repeat: int, concurrency: int, scratch: Path
) -> Samples:
    """Run every measurement ``repeat`` times, interleaved so drift hits them all alike.

    Disk hygiene, because file creation on this VM's ext4 (mounted ``discard``) is several
    times slower for a while after many files are deleted: nothing is deleted until every
    measurement is done, ``os.sync()`` runs before each timed step, and the floor goes last
    in even repeats and first in odd ones so neither side always follows the other's writes.
    """
    samples = Samples()
    paths = [corpus / n for n in docs]
    cmd = feedsite_cmd()
    env = subprocess_env(scratch)
    imports = [sys.executable, "-c", "import feedsite.cli, feedsite._run"]
    run_proc(imports, env=env)  # warm-up: fills the bytecode cache
    workdirs: list[Path] = []
    try:
        with serve(docs) as server:
            base = f"http://127.0.0.1:{server.server_address[1]}/"

            def timed_floor(work: Path) -> None:
                os.sync()
                n_files = int(samples.full_json[-1]["posts_new"])
                samples.floor.append(floor_once(paths, n_files, work / "floor"))

            for r in range(repeat):
                work = Path(tempfile.mkdtemp(prefix=f"ingest-{r}-", dir=scratch))
                workdirs.append(work)
                config = write_config(work, base, list(docs), concurrency)
                run = [*cmd, "run", "-c", str(config), "--json"]
                if r % 2:
                    timed_floor(work)

                os.sync()
                server.statuses.clear()
                full = run_proc(run, env=env)
                samples.full.append(full)
                samples.full_json.append(summary_of(full, "full run"))
                samples.server_full.append(Counter(server.statuses))
                samples.state_bytes.append(
                    sum(p.stat().st_size for p in (work / ".feedsite").glob("state.sqlite*"))
                )

                os.sync()
                server.statuses.clear()
                rerun = run_proc(run, env=env)
                samples.rerun.append(rerun)
                samples.rerun_json.append(summary_of(rerun, "304 rerun"))
                samples.server_rerun.append(Counter(server.statuses))

                if not r % 2:
                    timed_floor(work)
                samples.version.append(run_proc([*cmd, "--version"], env=env))
                samples.imports.append(run_proc(imports, env=env))
                print(
                    f"[{scratch}] repeat {r + 1}/{repeat}: "
                    f"floor {samples.floor[-1].seconds:.2f}s, "
                    f"full {samples.full[-1].seconds:.2f}s, "
                    f"rerun {samples.rerun[-1].seconds:.2f}s",
                    file=sys.stderr,
                )
    finally:
        for work in workdirs:
            shutil.rmtree(work, ignore_errors=True)
    return samples


def default_scratches() -> list[Path]:
    """TMPDIR (a real disk: what users get), then /dev/shm when it is a tmpfs (CPU only).

    The tmpfs table takes the disk out: fsync is free there, so it shows feedsite's own
    overhead over the floor without this VM's very noisy disk.
    """
    scratches = [Path(tempfile.gettempdir())]
    shm = Path("/dev/shm")
    usable = shm.is_dir() and os.access(shm, os.W_OK) and filesystem(shm) == "tmpfs"
    if usable and filesystem(scratches[0]) != "tmpfs":
        scratches.append(shm)
    return scratches


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (from /proc/mounts; "?" elsewhere)."""
    target = str(path.resolve())
    best, kind = "", "?"
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return kind
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind


def environment() -> str:
    """Date, versions and machine, for the record."""
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"lxml {version('lxml')} (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}), "
        f"nh3 {version('nh3')}, aiohttp {version('aiohttp')}, PyYAML {version('PyYAML')}, "
        f"feedsite {version('feedsite')}; {os.cpu_count()} CPUs ({platform.machine()}), "
        f"{platform.system()} {platform.release()}"
    )


def describe(docs: dict[str, Doc], concurrency: int) -> str:
    """What was served and how feedsite was configured."""
    total_mb = sum(len(d.body) for d in docs.values()) / 1e6
    return (
        f"Corpus: `realworld/feeds`, {len(docs)} feeds, {total_mb:.0f} MB, served by a threaded "
        "loopback `http.server` in the benchmark process (strong ETag + Last-Modified, 304 on a "
        f"match); `fetch.concurrency` and `fetch.per_host`: {concurrency}, "
        f"`items_per_feed: {ITEMS_PER_FEED}`, "
        "profile `default`, `images.mode: hotlink` (image downloads are `bench/images.py`'s: "
        "the corpus's image hosts are on the internet)."
    )


def report(samples: Samples, docs: dict[str, Doc], scratch: Path) -> str:
    """The Markdown result of one scratch folder: table, counts, raw repeats."""
    floor_s = median([f.seconds for f in samples.floor])
    full_s = median([p.seconds for p in samples.full])
    rerun_s = median([p.seconds for p in samples.rerun])
    version_s = median([p.seconds for p in samples.version])
    imports_s = median([p.seconds for p in samples.imports])
    full_in = median([float(j["seconds"]) for j in samples.full_json])
    rerun_in = median([float(j["seconds"]) for j in samples.rerun_json])
    full_rss = max(p.maxrss_kib for p in samples.full)
    rerun_rss = max(p.maxrss_kib for p in samples.rerun)

    last_full, last_rerun = samples.full_json[-1], samples.rerun_json[-1]
    posts = int(last_full["posts_new"])
    written = samples.floor[-1].written
    full_ratio = full_s / floor_s
    rerun_ratio = rerun_s / full_s
    full_ok = full_ratio <= FULL_TARGET
    rerun_ok = rerun_ratio < RERUN_TARGET
    not_modified = int(last_rerun["feeds_not_modified"])

    def rate(n: int, s: float) -> str:
        return f"{n / s:,.0f}"

    rows = [
        (
            f"floor: lxml parse + nh3 clean of {samples.floor[-1].entries:,} entries, "
            f"{written:,} files written + sync (in-process)",
            f"{floor_s:.2f}",
            rate(written, floor_s),
            "1.00× floor",
            "—",
            "—",
            "—",
        ),
        (
            f"full run: `feedsite run`, fresh state, {posts:,} posts (wall)",
            f"{full_s:.2f}",
            rate(posts, full_s),
            f"{full_ratio:.2f}× floor",
            f"≤ {FULL_TARGET:.0f}× floor",
            "pass" if full_ok else "**fail**",
            mib(full_rss),
        ),
        (
            f"304 rerun: same command, {not_modified}/{len(docs)} feeds not modified (wall)",
            f"{rerun_s:.2f}",
            "— (0 new)",
            f"{rerun_ratio:.1%} of full",
            f"< {RERUN_TARGET:.0%} of full",
            "pass" if rerun_ok else "**fail**",
            mib(rerun_rss),
        ),
        *(
            (
                f"  floor phase: {label}",
                f"{secs:.2f}",
                "",
                f"{secs / floor_s:.0%} of floor",
                "info",
                "",
                "",
            )
            for label, secs in (
                ("read + lxml parse + nh3 clean", median([f.parse_clean for f in samples.floor])),
                (f"{written:,} × `Writer.write`", median([f.write for f in samples.floor])),
                ("one `Writer.sync()`", median([f.sync for f in samples.floor])),
            )
        ),
        (
            "  full run, in-process `run()` (JSON `seconds`)",
            f"{full_in:.2f}",
            rate(posts, full_in),
            f"{full_in / floor_s:.2f}× floor",
            "info",
            "",
            "",
        ),
        (
            "  304 rerun, in-process `run()` (JSON `seconds`)",
            f"{rerun_in:.2f}",
            "",
            f"{rerun_in / full_s:.1%} of full",
            "info",
            "",
            "",
        ),
        (
            "  startup: `feedsite --version`",
            f"{version_s:.2f}",
            "",
            f"{version_s / full_s:.1%} of full",
            "info",
            "",
            mib(median([p.maxrss_kib for p in samples.version])),
        ),
        (
            '  startup + imports: `python -c "import feedsite.cli, feedsite._run"`',
            f"{imports_s:.2f}",
            "",
            f"{imports_s / full_s:.1%} of full",
            "info",
            "",
            mib(median([p.maxrss_kib for p in samples.imports])),
        ),
    ]
    head = ("what", "seconds", "items/s", "ratio", "target", "result", "peak RSS MiB")
    table = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * 6) + "|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]

    s_full = samples.server_full[-1]
    s_rerun = samples.server_rerun[-1]
    lines = [
        f"### Output on {filesystem(scratch)} (`{scratch}`)",
        "",
        f"Median of {len(samples.full)} repeats; peak RSS is the largest of the repeats.",
        "",
        *table,
        "",
        "Counts (last repeat): full run "
        f"feeds ok {last_full['feeds_ok']}, failed {last_full['feeds_failed']}, "
        f"posts new {last_full['posts_new']}; rerun not modified "
        f"{last_rerun['feeds_not_modified']}, ok {last_rerun['feeds_ok']}, "
        f"failed {last_rerun['feeds_failed']}, posts new {last_rerun['posts_new']}. "
        f"Server answers: full run {_statuses(s_full)}; rerun {_statuses(s_rerun)}. "
        f"State file after the full run: {samples.state_bytes[-1] / 1e6:.0f} MB.",
        "",
        "Every repeat (s): "
        + "; ".join(
            f"{what} {' / '.join(f'{x:.2f}' for x in xs)}"
            for what, xs in (
                ("floor", [f.seconds for f in samples.floor]),
                ("full", [p.seconds for p in samples.full]),
                ("rerun", [p.seconds for p in samples.rerun]),
            )
        )
        + ".",
        "",
        f"Targets: full run {'PASS' if full_ok else 'FAIL'} ({full_ratio:.2f}× floor, "
        f"target ≤ {FULL_TARGET:.0f}×); 304 rerun {'PASS' if rerun_ok else 'FAIL'} "
        f"({rerun_ratio:.1%} of full, target < {RERUN_TARGET:.0%}).",
    ]
    failed = [f["feed"] for f in last_full.get("feeds", []) if f.get("status") == "failed"]
    if failed:
        lines += ["", f"Feeds that failed in the full run: {', '.join(failed)}."]
    return "\n".join(lines) + "\n"


def _statuses(counts: Counter[int]) -> str:
    return ", ".join(f"{n}× {code}" for code, n in sorted(counts.items())) or "none"


def write_docs(body: str, path: Path = DOCS) -> None:
    """Replace the ``## Ingest`` section of ``path`` (creating the file if needed)."""
    section = (
        f"{SECTION}\n\n"
        "`bench/ingest.py`: `feedsite run` over the 200 real-world feeds of "
        "`../shared/corpora/realworld/feeds` served from a loopback HTTP server, taking every "
        "entry, against a floor measured in the same command (lxml parse + nh3 clean of the "
        "same entries + writing the same number of files through the same `Writer`), then a "
        "rerun where every feed answers 304. Rerun with:\n\n"
        "```sh\n.venv/bin/python bench/ingest.py --write-docs\n```\n\n"
        "Two tables: the real disk (`TMPDIR`) is what users get, fsync included, but this VM's "
        "file-creation speed swings several-fold from minute to minute, and the floor is mostly "
        "disk there; tmpfs (`/dev/shm`) takes the disk out and shows feedsite's own CPU "
        "overhead over the floor. Indented rows are information, not targets. Details and "
        "options: [bench/README.md](../bench/README.md).\n\n" + body
    )
    replace_section(path, SECTION, section, DOCS_INTRO)


# --------------------------------------------------------------------------- profiling


def profile(docs: dict[str, Doc], concurrency: int, scratch: Path, out: Path, top: int) -> None:
    """Run the full run and the rerun once each under cProfile and print their hotspots."""
    out.mkdir(parents=True, exist_ok=True)
    env = subprocess_env(scratch)
    run_proc([sys.executable, "-c", "import feedsite.cli, feedsite._run"], env=env)  # warm-up
    work = Path(tempfile.mkdtemp(prefix="ingest-profile-", dir=scratch))
    try:
        with serve(docs) as server:
            base = f"http://127.0.0.1:{server.server_address[1]}/"
            config = write_config(work, base, list(docs), concurrency)
            for name in ("full", "rerun"):
                prof = out / f"{name}.prof"
                cmd = [sys.executable, "-m", "cProfile", "-o", str(prof)]
                proc = run_proc(
                    [*cmd, "-m", "feedsite", "run", "-c", str(config), "--json"],
                    env=env,
                )
                summary = summary_of(proc, f"profiled {name}")
                print(
                    f"\n## profile: {name} run ({proc.seconds:.2f}s wall under cProfile, "
                    f"posts_new {summary['posts_new']}, not_modified "
                    f"{summary['feeds_not_modified']}) -> {prof}"
                )
                for key in ("cumulative", "tottime"):
                    buf = io.StringIO()
                    pstats.Stats(str(prof), stream=buf).strip_dirs().sort_stats(key).print_stats(
                        top
                    )
                    text = buf.getvalue()
                    print(f"\n### by {key}\n")
                    print(text[text.find("   ncalls") :].rstrip())
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, measure, print (and optionally write) the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of feeds")
    parser.add_argument("--repeat", type=int, default=3, help="repeats (median); 0: none")
    parser.add_argument("--concurrency", type=int, default=8, help="fetch.concurrency")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.name}")
    parser.add_argument(
        "--scratch",
        type=Path,
        action="append",
        help="folder for state, posts and floor output; repeat to compare filesystems "
        "(e.g. --scratch /tmp --scratch /dev/shm); default: TMPDIR, then /dev/shm if tmpfs",
    )
    parser.add_argument("--profile", type=Path, metavar="DIR", help="also cProfile into DIR")
    parser.add_argument("--top", type=int, default=30, help="profile rows to print")
    args = parser.parse_args(argv)
    if args.repeat < 0 or (args.repeat == 0 and args.profile is None):
        parser.error("--repeat must be ≥ 1 (or 0 with --profile)")
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}")
    scratches: list[Path] = args.scratch or default_scratches()
    docs = load_corpus(args.corpus)
    if args.repeat:
        parts = []
        for scratch in scratches:
            samples = measure(docs, args.corpus, args.repeat, args.concurrency, scratch)
            parts.append(report(samples, docs, scratch))
        header = f"Measured {environment()}.\n\n{describe(docs, args.concurrency)}\n\n"
        body = header + "\n".join(parts)
        print(body)
        if args.write_docs:
            write_docs(body)
            print(f"wrote {DOCS}", file=sys.stderr)
    if args.profile is not None:
        profile(docs, args.concurrency, scratches[0], args.profile, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
