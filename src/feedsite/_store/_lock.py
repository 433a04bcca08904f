"""The run lock: one ``feedsite run`` per state file at a time.

An ``flock`` on ``<state>.lock``: the kernel drops it when the process dies,
however it dies, so a killed run never leaves a stale lock behind; the file
keeps the holder's pid for the message the second run prints.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feedsite.errors import LockedError


@contextmanager
def locked(
    state_path: Path, *, suffix: str = ".lock", holder: str = "feedsite run"
) -> Iterator[None]:
    """Hold the run lock beside the state file (released on exit or process death).

    ``suffix`` names another lock of the same state (``.watch.lock``: one ``feedsite
    watch`` per state); ``holder`` names this process in the lock file (``feedsite watch``
    for its turns), so a process refused the lock says who holds it."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = state_path.with_name(state_path.name + suffix)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            written = os.pread(fd, 128, 0).decode(errors="replace").strip()
            pid, _, who = written.partition(" ")  # "<pid> <holder>" (older: "<pid>")
            raise LockedError(
                f"another {who or holder} (pid {pid or 'unknown'}) is using {state_path};"
                " try again later"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {holder}".encode(), 0)
        yield
    finally:
        os.close(fd)
