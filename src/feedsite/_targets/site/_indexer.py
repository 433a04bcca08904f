"""The search step's shell: read the published index, plan, build, write. Decides nothing.

``_search.plan_index`` decides; this module reads the index files the last build
wrote (only where they still hold the recorded bytes), reads the bodies of the posts
a new segment needs, and writes through the ledger's session, ``meta.json`` last.

A large segment (a first build, a rebuild) is built in a child process while the
parent renders the pages: the build then uses both cores of a small machine. The
child only reads the state; it writes nothing. Its input goes through its stdin pipe
and its result comes back through its stdout pipe: no temp file, so a build killed at
any moment leaves nothing in the temp folder; and the child dies with its parent.

The index's files are owned through the one ledger (:mod:`feedsite._targets._ledger`),
key :data:`SEARCH_KEY`, like the pages.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from feedsite._records import FileWrite, OwnedFile
from feedsite._store import State
from feedsite._targets._ledger import Session
from feedsite._targets._writer import Writer
from feedsite.errors import FeedsiteError, TargetError

from . import _search as search
from ._model import SitePost

#: Manifest key of the search index's files.
SEARCH_KEY = "search"
#: New documents from which the segment is built in a child process.
PARALLEL_DOCS = 2000
#: Bodies read from the state at a time.
BATCH = 500


@dataclass(slots=True)
class SearchJob:
    """A search update under way (see :func:`start`)."""

    settings_key: str
    plan: search.IndexPlan
    docs: list[search.SearchDoc]
    keys: list[tuple[str, str]]
    published: bool
    #: Seconds spent planning (the search step's share of ``start``).
    plan_seconds: float
    #: The child building the new segment, and the thread writing its input to its stdin.
    child: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    feeder: threading.Thread | None = field(default=None, repr=False)

    def close(self) -> None:
        """Stop a child whose result is no longer wanted (the build failed meanwhile)."""
        if self.child is not None and self.child.returncode is None:
            self.child.kill()
            self.join_feeder()
            with contextlib.suppress(subprocess.SubprocessError, OSError, ValueError):
                self.child.communicate()

    def join_feeder(self) -> None:
        """Wait until the child's input is written and its stdin closed (or it died)."""
        if self.feeder is not None:
            self.feeder.join()
            self.feeder = None
            if self.child is not None:
                self.child.stdin = None  # closed by the feeder: communicate() must not flush it


def start(
    writer: Writer,
    state: State,
    owned: Mapping[str, OwnedFile],
    posts: Sequence[SitePost],
    zone: str,
    on_disk: Set[str],
) -> SearchJob:
    """Plan the update; start building a large new segment in a child process.

    ``owned``: the target's files as the ledger records them; ``on_disk``: the files under
    the output folder (relative paths), as the build listed them.
    """
    started = time.monotonic()
    settings_key = hashlib.sha256(f"{search.VERSION}|{zone}".encode()).hexdigest()[:16]
    tz = ZoneInfo(zone)
    published = _read_index(writer, owned)
    if any(p not in on_disk for p in owned if p.startswith(search.INDEX_DIR)):
        published = {}  # a file of the index is gone: build it anew
    plan = search.plan_index(
        [(p.uid, doc_key(p)) for p in posts], search.read_segments(published, settings_key)
    )
    by_uid = {p.uid: p for p in posts}
    new = [by_uid[uid] for uid in plan.new]
    job = SearchJob(
        settings_key,
        plan,
        [search_doc(p, tz) for p in new],
        [(p.feed_key, p.item_id) for p in new],
        search.META in published,
        time.monotonic() - started,
    )
    if len(job.docs) >= PARALLEL_DOCS:
        # A fresh interpreter (not fork: its memory would be the parent's; not
        # multiprocessing's spawn: it re-runs the caller's __main__). Its input goes
        # through its stdin, from a thread: the child reads it once it has started, while
        # this process goes on rendering pages.
        data = pickle.dumps((str(state.path), job.docs, job.keys), protocol=pickle.HIGHEST_PROTOCOL)
        job.child = subprocess.Popen(
            [sys.executable, "-m", __name__, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        job.feeder = threading.Thread(
            target=_feed, args=(job.child, data), name="feedsite-search-input", daemon=True
        )
        job.feeder.start()
    return job


def _feed(child: subprocess.Popen[bytes], data: bytes) -> None:
    """Write the child's input to its stdin and close it (a child that died early is
    reported by :func:`finish` from its exit status)."""
    assert child.stdin is not None
    with contextlib.suppress(OSError):  # BrokenPipeError: the child is gone
        child.stdin.write(data)
    with contextlib.suppress(OSError):
        child.stdin.close()


def finish(
    job: SearchJob,
    session: Session,
    state: State,
    owned: Mapping[str, OwnedFile],
    delete: Callable[[list[str]], object],
) -> tuple[int, float]:
    """Write the planned index through ``session``, ``meta.json`` last; returns (files
    changed, seconds of search work).

    ``owned``: the target's files as the ledger recorded them before the build;
    ``delete(paths)`` deletes owned files through the session (only where they hold our
    bytes).

    Raises:
        TargetError: the child process failed.
    """
    started = time.monotonic()
    if not job.plan.changed and job.published:
        return 0, job.plan_seconds
    segments = list(job.plan.keep)
    files: dict[str, bytes] = {}
    seconds = 0.0
    if job.docs:
        if job.child is not None:
            seg_id, files, seconds = _child_result(job)
        else:
            seg_id, files, seconds = _build_with(state, job.docs, job.keys)
        shards = sum(1 for p in files if p.startswith(f"{search.INDEX_DIR}{seg_id}/s"))
        segments.insert(0, search.Segment(seg_id, shards, tuple((d.uid, d.key) for d in job.docs)))
    write_started = time.monotonic()
    files[search.META] = search.meta_bytes(segments, job.settings_key)
    kept = {p for seg in job.plan.keep for p in search.segment_files(seg.id, owned)}
    writes = [
        FileWrite(path, data, hashlib.sha256(data).hexdigest(), SEARCH_KEY)
        for path, data in files.items()
    ]
    session.stage(writes)
    changed = 0
    for w in writes:  # meta.json last: it names only segments on disk
        done = session.write(w)
        if done is not None and done.changed:
            changed += 1
    delete([p for p in owned if p.startswith(search.INDEX_DIR) and p not in kept | set(files)])
    if job.child is None:
        return changed, job.plan_seconds + time.monotonic() - started  # all of it ran here
    return changed, job.plan_seconds + seconds + time.monotonic() - write_started


def doc_key(p: SitePost) -> str:
    """Changes whenever the index's view of the post changes.

    The date shown derives from the time (in ``data_key``) and the zone (in the index's
    settings key); the excerpt and title from the content (in ``data_key``).
    """
    text = f"{p.data_key}\x1f{p.path}\x1f{p.site}\x1f{p.feed}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def search_doc(p: SitePost, zone: ZoneInfo) -> search.SearchDoc:
    """The index's view of a post."""
    try:
        date = p.time.astimezone(zone).strftime("%Y-%m-%d")
    except (OverflowError, ValueError):
        date = p.time.strftime("%Y-%m-%d")
    source = f"{p.site} › {p.feed}"
    return search.SearchDoc(p.uid, doc_key(p), p.path, p.short_title, source, date, p.excerpt)


def _child_result(job: SearchJob) -> tuple[str, dict[str, bytes], float]:
    assert job.child is not None
    job.join_feeder()
    out, err = job.child.communicate()
    if job.child.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[-2000:]
        raise TargetError(
            f"building the search index failed (exit {job.child.returncode}): {detail}"
        )
    result: tuple[str, dict[str, bytes], float] = pickle.loads(out)
    return result


def _child_main(parent: str) -> None:
    """The child: build one segment from the bodies in the state (read only); its input
    comes on stdin, its result goes to stdout."""
    _die_with(int(parent))
    state_path, docs, keys = pickle.load(sys.stdin.buffer)
    with State.open(Path(state_path), create=False) as state:
        result = _build_with(state, docs, keys)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def _die_with(parent: int) -> None:
    """Be killed when the parent dies (Linux): a killed build leaves no child behind."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that
        sys.exit(1)


def _build_with(
    state: State, docs: list[search.SearchDoc], keys: list[tuple[str, str]]
) -> tuple[str, dict[str, bytes], float]:
    started = time.monotonic()
    seg_id, files = search.build_segment(docs, _texts(state, keys))
    return seg_id, files, time.monotonic() - started


def _texts(state: State, keys: list[tuple[str, str]]) -> Iterator[str]:
    """Each post's plain body text, reading the bodies :data:`BATCH` at a time."""
    for start_at in range(0, len(keys), BATCH):
        batch = keys[start_at : start_at + BATCH]
        bodies = state.bodies(batch)
        for key in batch:
            yield search.plain_text(bodies.get(key, ""))


def _read_index(writer: Writer, owned: Mapping[str, OwnedFile]) -> dict[str, bytes]:
    """The index's meta.json and ids.json files, where they still hold the bytes we wrote."""
    out: dict[str, bytes] = {}
    for path, f in owned.items():
        ids = path.startswith(search.INDEX_DIR) and path.endswith("/ids.json")
        if path != search.META and not ids:
            continue
        try:
            data = writer.resolve(path).read_bytes()
        except (OSError, FeedsiteError):
            continue
        if hashlib.sha256(data).hexdigest() == f.sha256:
            out[path] = data
    return out


if __name__ == "__main__":
    _child_main(sys.argv[1])
