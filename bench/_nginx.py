"""A private nginx serving a folder of static files on 127.0.0.1, for benchmarks (and tests).

Debian's ``nginx-light`` (``apt-get install nginx-light``), started as the current user with a
generated ``nginx.conf`` in a temporary folder: ``daemon off``, one worker, the pid file, the
error log and every temp path inside that folder, no access log (optional), and nothing read
from or written to ``/etc/nginx`` or ``/var/log/nginx``. So ``ETag``, ``Last-Modified`` and the
``304`` answers are nginx's own: ``ETag`` is ``"<mtime hex>-<size hex>"`` of the file and
``If-Modified-Since`` must match the mtime exactly (``if_modified_since exact``).

Usage::

    with Nginx(root) as server:
        urlopen(server.url("a/b.xml"))

The server is always stopped when the block ends (SIGQUIT, then SIGTERM, then SIGKILL),
on an exception or Ctrl-C too; SIGTERM to this process is turned into ``SystemExit`` inside
the block so the same cleanup runs, and on Linux nginx also gets SIGTERM if this process
dies without cleaning up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

#: Media types by file extension (nginx's ``types`` block).
DEFAULT_TYPES: Mapping[str, str] = {
    "xml": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
    "html": "text/html",
    "jpg": "image/jpeg",
    "png": "image/png",
}

INSTALL_HINT = "nginx is not installed: run `apt-get install -y nginx-light` (Debian/Ubuntu)"


class NginxError(RuntimeError):
    """nginx is missing, or did not start."""


def find_nginx() -> str:
    """The nginx binary (PATH, then ``/usr/sbin``), or ``NginxError`` naming the package."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise NginxError(INSTALL_HINT)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (nginx binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def render_conf(
    root: Path,
    port: int,
    tmp: Path,
    types: Mapping[str, str] = DEFAULT_TYPES,
    access_log: bool = False,
) -> str:
    """The ``nginx.conf`` text: static files of ``root`` on ``127.0.0.1:port``."""
    user = ""
    if os.geteuid() == 0:
        # As root, workers would run as `nobody`, who cannot read a 0700 temp folder.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"
    by_type: dict[str, list[str]] = {}
    for ext, media in types.items():
        by_type.setdefault(media, []).append(ext)
    type_lines = "".join(f"        {m} {' '.join(exts)};\n" for m, exts in by_type.items())
    log = (
        f"    log_format bench '$status $body_bytes_sent $request_uri';\n"
        f"    access_log {tmp / 'access.log'} bench;\n"
        if access_log
        else "    access_log off;\n"
    )
    temps = "".join(
        f"    {name}_temp_path {tmp / name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}"
        "daemon off;\n"
        "master_process on;\n"
        "worker_processes 1;\n"
        f"pid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'error.log'} warn;\n"
        "events {\n    worker_connections 4096;\n}\n"
        "http {\n"
        f"{log}{temps}"
        "    types {\n"
        f"{type_lines}"
        "    }\n"
        "    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    tcp_nodelay on;\n"
        # A client's connections are not cut every 1,000 requests (nginx's default): the
        # benchmarks measure the client's per-request cost, not reconnections.
        "    keepalive_requests 1000000;\n"
        "    keepalive_timeout 300s;\n"
        "    etag on;\n"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        f"        root {root};\n"
        "        location / { }\n"
        "    }\n"
        "}\n"
    )


def _pdeathsig() -> None:
    """In the child before exec: SIGTERM it when this process dies (Linux; else nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class Nginx:
    """nginx serving ``root`` at ``http://127.0.0.1:<port>/`` (a context manager).

    Args:
        root: the folder served.
        port: the port; default a free one.
        types: media types by extension.
        access_log: write ``$status $body_bytes_sent $request_uri`` lines to
            ``<tmp>/access.log`` (``statuses()`` counts them); off by default.
        start_timeout: seconds to wait for the port to answer.
    """

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        types: Mapping[str, str] = DEFAULT_TYPES,
        access_log: bool = False,
        start_timeout: float = 10.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.port = port or free_port()
        self.types = types
        self.access_log = access_log
        self.start_timeout = start_timeout
        self.binary = find_nginx()
        self.tmp: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._old_sigterm: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def version(self) -> str:
        """``nginx -v`` (e.g. ``nginx/1.22.1``)."""
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True, check=False)
        return (out.stderr or out.stdout).strip().rpartition(": ")[2]

    def start(self) -> None:
        """Write the config, start nginx, wait until the port answers."""
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            render_conf(self.root, self.port, self.tmp, self.types, self.access_log),
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            # -e: the error log from the start (before the config is read), not /var/log/nginx.
            [self.binary, "-c", str(conf), "-p", str(self.tmp), "-e", str(self.tmp / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches this process; the stop below is ours
            preexec_fn=_pdeathsig,  # no threads run at this point
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise NginxError(f"nginx exited with {self.proc.returncode}: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise NginxError(
                        f"nginx did not answer on 127.0.0.1:{self.port} "
                        f"within {self.start_timeout:.0f} s: {self._log()}"
                    ) from None
                time.sleep(0.02)

    def _log(self) -> str:
        parts = []
        if self.proc is not None and self.proc.stderr is not None and self.proc.poll() is not None:
            parts.append(self.proc.stderr.read().decode(errors="replace").strip())
        if self.tmp is not None and (self.tmp / "error.log").exists():
            parts.append((self.tmp / "error.log").read_text(errors="replace").strip()[-2000:])
        return " | ".join(p for p in parts if p) or "(no log)"

    def statuses(self) -> dict[int, int]:
        """How many responses of each status the access log holds (needs ``access_log``)."""
        counts: dict[int, int] = {}
        if self.tmp is None or not (self.tmp / "access.log").exists():
            return counts
        with open(self.tmp / "access.log", encoding="utf-8", errors="replace") as f:
            for line in f:
                head = line.split(" ", 1)[0]
                if head.isdigit():
                    counts[int(head)] = counts.get(int(head), 0) + 1
        return counts

    def stop(self) -> None:
        """Graceful stop (SIGQUIT), then SIGTERM, then SIGKILL; remove the temp folder."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGQUIT, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)  # the master and its worker (own session)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None and proc.stderr is not None:
            proc.stderr.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> Nginx:
        if threading.current_thread() is threading.main_thread():

            def on_sigterm(number: int, _frame: FrameType | None) -> None:
                raise SystemExit(128 + number)

            self._old_sigterm = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            self.start()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self._restore()

    def _restore(self) -> None:
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
