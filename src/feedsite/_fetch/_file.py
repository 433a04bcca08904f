"""Read a ``file://`` source from the local disk.

Scope: one attempt on one local file, mapped to an ``AttemptResult``. Contains no
business logic: no conditional GET (files are re-read on every run), no failover.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ._model import AttemptResult, Fetched, Source, SourceFailed, Validators
from ._redact import redact


def is_file_url(url: str) -> bool:
    """Tell whether ``url`` is a ``file:`` URL (scheme compared case-insensitively)."""
    return url[:5].lower() == "file:"


def file_url_path(url: str) -> Path | None:
    """Return the local path of a ``file:`` URL, or None when its host is not local."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))


def _read_at_most(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit + 1)


async def attempt_file(
    source: Source, max_body: int, is_feed: Callable[[bytes], bool]
) -> AttemptResult:
    """Read ``source.url`` (a ``file:`` URL) as a feed.

    The body goes through ``is_feed`` like an HTTP body, so a local file can fail
    over to the next source too.

    Args:
        source: a source whose URL is a ``file:`` URL.
        max_body: fail when the file is larger than this many bytes.
        is_feed: the cheap "does this look like a feed" check.

    Returns:
        ``Fetched`` (with empty validators), or ``SourceFailed`` naming the path.
    """
    path = file_url_path(source.url)
    if path is None:
        return SourceFailed(f"{redact(source.url)}: file URL with a remote host is not supported")
    try:
        body = await asyncio.to_thread(_read_at_most, path, max_body)
    except FileNotFoundError:
        return SourceFailed(f"{path}: no such file")
    except IsADirectoryError:
        return SourceFailed(f"{path}: is a directory")
    except OSError as exc:
        return SourceFailed(f"{path}: cannot read: {exc.strerror or exc}")
    if len(body) > max_body:
        return SourceFailed(f"{path}: file larger than {max_body} bytes")
    content_type, _ = mimetypes.guess_type(path.name)
    if not is_feed(body):
        return SourceFailed(f"{path}: not a feed ({content_type or 'unknown type'})")
    return Fetched(
        source=source,
        body=body,
        content_type=content_type,
        final_url=source.url,
        validators=Validators(),
    )
