"""The one guarded writer. Touches the output tree; decides nothing.

* every path is resolved under the root and refused if it would leave it;
* writes are atomic: a temp file in the same folder, then ``os.replace``;
* unchanged content is not rewritten (mtime untouched);
* ``sync()`` makes everything written or deleted since the last call durable
  (file data, then the folders' entries) — callers call it once before
  committing the state that describes those files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from feedsite.errors import TargetError, UnsafePathError


class Writer:
    """Writes and deletes files under ``root``. Does not decide what to write."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._dirty_files: list[Path] = []
        self._dirty_dirs: set[Path] = set()

    def resolve(self, relpath: str) -> Path:
        """Absolute path of ``relpath`` under the root.

        Raises:
            UnsafePathError: the path is absolute, has ``..``/NUL, or leaves the root.
        """
        if not relpath or "\x00" in relpath or relpath.startswith(("/", "\\")):
            raise UnsafePathError(f"unsafe output path {relpath!r}")
        parts = relpath.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise UnsafePathError(f"unsafe output path {relpath!r}")
        path = self.root.joinpath(*parts)
        if not path.resolve().is_relative_to(self.root):
            raise UnsafePathError(f"output path {relpath!r} leaves {self.root}")
        return path

    def write(self, relpath: str, data: bytes) -> bool:
        """Atomically write ``data``; return False when the file already held it."""
        path = self.resolve(relpath)
        try:
            if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".feedsite-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise TargetError(f"cannot write {path}: {e.strerror or e}") from e
        self._dirty_files.append(path)
        self._dirty_dirs.add(path.parent)
        return True

    def delete(self, relpath: str) -> bool:
        """Delete a file (and folders it leaves empty); False if it was not there."""
        path = self.resolve(relpath)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as e:
            raise TargetError(f"cannot delete {path}: {e.strerror or e}") from e
        self._dirty_dirs.add(path.parent)
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break
            self._dirty_dirs.add(parent.parent)
            parent = parent.parent
        return True

    def sync(self) -> None:
        """Make every write and delete since the last call durable."""
        for path in (*self._dirty_files, *self._dirty_dirs):
            _fsync(path)
        self._dirty_files.clear()
        self._dirty_dirs.clear()


def _fsync(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes its entries durable)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
