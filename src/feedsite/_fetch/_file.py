"""Read a ``file://`` source from the local disk.

Scope: one try of one local file, mapped to a ``TryResult``. Contains no
business logic: no conditional GET (files are re-read on every run), no failover,
no retries (every file problem is final for this run).
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from feedsite.types import Validators

from ._model import Fetched, Source
from ._redact import redact
from ._try import Failed, Problem, Success, TryResult


def is_file_url(url: str) -> bool:
    """Tell whether ``url`` is a ``file:`` URL (scheme compared case-insensitively)."""
    return url[:5].lower() == "file:"


def file_url_path(url: str) -> Path | None:
    """Return the local path of a ``file:`` URL, or None when its host is not local."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))


def display_name(url: str) -> str:
    """What messages call a ``file:`` source: its local path, else the redacted URL."""
    path = file_url_path(url)
    return str(path) if path is not None else redact(url)


def _read_at_most(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def _failed(cause: str) -> Failed:
    return Failed(cause, Problem("final"))


async def attempt_file(
    source: Source, max_body: int, is_feed: Callable[[bytes], bool]
) -> TryResult:
    """Read ``source.url`` (a ``file:`` URL) as a feed.

    The body goes through ``is_feed`` like an HTTP body, so a local file can fail
    over to the next source too.

    Args:
        source: a source whose URL is a ``file:`` URL.
        max_body: fail when the file is larger than this many bytes.
        is_feed: the cheap "does this look like a feed" check.

    Returns:
        ``Success`` (``Fetched`` with empty validators), or ``Failed``
        (messages name the file by ``display_name``).
    """
    path = file_url_path(source.url)
    if path is None:
        return _failed("file URL with a remote host is not supported")
    try:
        body = await asyncio.to_thread(_read_at_most, path, max_body)
    except FileNotFoundError:
        return _failed("no such file")
    except IsADirectoryError:
        return _failed("is a directory")
    except OSError as exc:
        return _failed(f"cannot read: {exc.strerror or exc}")
    if len(body) > max_body:
        return _failed(f"file larger than {max_body} bytes")
    content_type, _ = mimetypes.guess_type(path.name)
    if not is_feed(body):
        return _failed(f"not a feed ({content_type or 'unknown type'})")
    fetched = Fetched(
        source=source,
        body=body,
        content_type=content_type,
        final_url=source.url,
        validators=Validators(),
    )
    return Success(fetched, None, "read")
