"""Full-text search: Pagefind (the ``pagefind[extended]`` package, whose build segments Chinese).

Pagefind indexes the post pages only (``posts/**/*.html``; the article carries
``data-pagefind-body``) and detects each page's language from ``<html lang>``,
so Chinese and English posts each get a properly segmented index (the search
page merges them). It writes its bundle into a temporary folder; the caller
copies the files through the guarded writer, so unchanged index files keep
their bytes and mtimes.

The package's binary is run as a command rather than through its asyncio
service API: with pagefind 1.5.2 the service is terminated as soon as it has
answered ``WriteFiles``, sometimes before its files are complete (a 0-byte
``pagefind-ui.js`` was observed), while the command exits only once its bundle is on disk.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from feedsite.errors import TargetError

#: The glob of the pages Pagefind indexes, relative to the site.
INDEXED = "posts/**/*.html"


def index_posts(site: Path, bundle: Path) -> None:
    """Index ``site``'s post pages into ``bundle`` (a folder that does not exist yet).

    Raises:
        TargetError: Pagefind is missing or failed.
    """
    try:
        from pagefind.service import get_executable
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise TargetError(f"search needs the pagefind[extended] package: {e}") from e
    binary = get_executable()
    if binary is None:
        raise TargetError("search needs the pagefind[extended] package (no pagefind binary)")
    command = [
        str(binary),
        "--site",
        str(site),
        "--glob",
        INDEXED,
        "--output-path",
        str(bundle),
        "--keep-index-url",
        "--silent",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TargetError(f"pagefind failed: {e}") from e
    if done.returncode != 0 or not (bundle / "pagefind.js").is_file():
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise TargetError(f"pagefind failed (exit {done.returncode}): {detail}")


def normalize(path: str, data: bytes) -> bytes:
    """Pagefind's bundle with its nondeterminism removed (so a rebuild rewrites nothing).

    ``pagefind-entry.json`` lists languages in hash-map order: sorted here.
    """
    if path.endswith("pagefind-entry.json"):
        entry = json.loads(data)
        if isinstance(entry.get("languages"), dict):
            entry["languages"] = dict(sorted(entry["languages"].items()))
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return data


def page_count(entry: bytes) -> int:
    """Pages indexed, from ``pagefind-entry.json``'s bytes."""
    languages = json.loads(entry).get("languages", {})
    return sum(int(v.get("page_count", 0)) for v in languages.values())
