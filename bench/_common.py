"""What the benchmarks share: measuring a subprocess, its environment, the docs section.

Imported by ``bench/ingest.py`` and ``bench/site.py`` (run as scripts, so this folder is
on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: GNU time reports the child's own peak RSS. ``os.wait4`` alone would not: a forked child's
#: high-water mark starts at this (large) process's RSS, kept across ``exec``.
GNU_TIME = Path("/usr/bin/time")
#: How often the RSS of the child's process tree is sampled.
SAMPLE_SECONDS = 0.05
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True, slots=True)
class Proc:
    """A finished subprocess: wall time, exit code, output, peak memory (KiB; 0 if unknown).

    ``maxrss_kib`` is GNU time's ``%M``: the largest peak RSS of one process (the child, or
    a child of its own it waited for). ``tree_kib`` is the largest sum of the RSS of the whole
    process tree, sampled every ``SAMPLE_SECONDS`` (a native site build indexes the posts for
    search in a child process while it renders the pages: both are in memory at once).
    ``cpu_seconds`` is GNU time's ``%U + %S`` (the child and the children it waited for; 0 if
    unknown): on a shared machine it moves much less than the wall time when other work
    competes for the cores. ``load`` is the 1-minute load average when the child started.
    """

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_kib: int
    tree_kib: int
    cpu_seconds: float = 0.0
    load: float = 0.0


def run_proc(
    cmd: Sequence[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
) -> Proc:
    """Run ``cmd``; time it, read its peak RSS with GNU time and sample its tree's RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss,
    ):
        timed = GNU_TIME.exists()
        full = [str(GNU_TIME), "-f", "%M %U %S", "-o", rss.name, *cmd] if timed else list(cmd)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        started = time.perf_counter()
        proc = subprocess.Popen(
            full, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        tree = 0
        sampling = Path("/proc/self/stat").exists()
        try:
            while True:
                try:
                    proc.wait(timeout=SAMPLE_SECONDS if sampling else timeout)
                    break
                except subprocess.TimeoutExpired:
                    if time.perf_counter() - started > timeout:
                        proc.kill()
                        proc.wait()
                        break
                    # GNU time's own few hundred KiB are in the tree too; negligible.
                    tree = max(tree, _tree_rss_kib(proc.pid))
        except BaseException:  # Ctrl-C, SIGTERM turned into SystemExit: no orphans left
            _stop_tree(proc)
            raise
        seconds = time.perf_counter() - started
        maxrss, cpu = 0, 0.0
        if timed:
            # The last line (GNU time first says "Command exited with non-zero status N").
            lines = rss.read().strip().splitlines()
            fields = lines[-1].split() if lines else []
            if len(fields) == 3 and fields[0].isdigit():
                maxrss = int(fields[0])
                with contextlib.suppress(ValueError):
                    cpu = float(fields[1]) + float(fields[2])
        out.seek(0)
        err.seek(0)
        return Proc(
            seconds,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            maxrss,
            max(tree, maxrss),
            cpu,
            load,
        )


def _stop_tree(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """SIGTERM ``proc`` and every descendant (GNU time does not pass a signal on); SIGKILL
    what is still alive after ``grace`` seconds (a feedsite run finishes its writes first)."""
    pids = [*_descendants(proc.pid), proc.pid]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :][:1] != b"Z"


def _descendants(root: int) -> list[int]:
    """The pids of every descendant of ``root`` (from /proc; [] elsewhere)."""
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
                parents[int(entry.name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found = []
    for pid in parents:
        p = parents.get(pid, 0)
        while p > 1:
            if p == root:
                found.append(pid)
                break
            p = parents.get(p, 0)
    return found


def _tree_rss_kib(root: int) -> int:
    """Sum of the resident memory of ``root`` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            pid = int(entry.name)
            parents[pid] = int(fields[1])  # ppid
            rss[pid] = int(fields[21]) * _PAGE_KIB  # rss, pages
        except (OSError, ValueError, IndexError):
            continue
    total = 0
    for pid, kib in rss.items():
        p = pid
        while p > 1:
            if p == root:
                total += kib
                break
            p = parents.get(p, 0)
    return total


def subprocess_env(scratch: Path) -> dict[str, str]:
    """This environment, with bytecode caching on (in a cache folder outside the repository).

    An installed feedsite has ``.pyc`` files; an editable install under
    ``PYTHONDONTWRITEBYTECODE`` would recompile feedsite's source at every start, which is
    not what users pay. ``PYTHONPYCACHEPREFIX`` keeps the cache out of ``src/``.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "feedsite-bench-pycache")
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def replace_section(path: Path, heading: str, section: str, intro: str) -> None:
    """Replace the ``heading`` section of ``path`` with ``section`` (appended if absent;
    the file starts as ``intro`` if it does not exist)."""
    text = path.read_text(encoding="utf-8") if path.exists() else intro
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        tail = text[end + 1 :] if end != -1 else ""
        text = text[:start] + section + ("\n" + tail if tail else "")
    path.write_text(text, encoding="utf-8")
