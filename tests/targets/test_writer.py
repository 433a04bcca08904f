"""The one writer: atomic, skips unchanged content, cleans up empty folders."""

from __future__ import annotations

import os
from pathlib import Path

from feedsite._targets._writer import Writer


def test_write_then_skip_unchanged(tmp_path: Path) -> None:
    w = Writer(tmp_path)
    assert w.write("a/b/c.md", b"hello").changed is True
    path = tmp_path / "a/b/c.md"
    mtime = path.stat().st_mtime_ns
    os.utime(path, ns=(mtime - 10**9, mtime - 10**9))
    before = path.stat().st_mtime_ns
    assert w.write("a/b/c.md", b"hello").changed is False
    assert path.stat().st_mtime_ns == before
    assert w.write("a/b/c.md", b"changed").changed is True
    assert path.read_bytes() == b"changed"
    w.sync()


def test_no_temp_files_left(tmp_path: Path) -> None:
    w = Writer(tmp_path)
    for i in range(20):
        w.write(f"d/{i}.md", b"x" * i)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(
        f"{i}.md" for i in range(20)
    )


def test_delete_removes_empty_folders_only_under_root(tmp_path: Path) -> None:
    w = Writer(tmp_path / "root")
    w.write("a/b/c.md", b"x")
    w.write("a/keep.md", b"y")
    assert w.delete("a/b/c.md") is True
    assert not (tmp_path / "root/a/b").exists()
    assert (tmp_path / "root/a/keep.md").exists()
    assert w.delete("a/b/c.md") is False
    w.delete("a/keep.md")
    assert (tmp_path / "root").is_dir()  # the root itself stays


def test_written_reports_the_files_stat(tmp_path: Path) -> None:
    done = Writer(tmp_path).write("x.md", b"12345")
    st = (tmp_path / "x.md").stat()
    assert (done.size, done.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_a_symlinked_file_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    root = tmp_path / "root"
    root.mkdir()
    (root / "p.md").symlink_to(outside)
    Writer(root).write("p.md", b"post")
    assert outside.read_text() == "keep me"
    assert (root / "p.md").read_bytes() == b"post" and not (root / "p.md").is_symlink()


def test_remove_temp_files(tmp_path: Path) -> None:
    w = Writer(tmp_path)
    w.write("a/x.md", b"x")
    (tmp_path / "a/.feedsite-abc.tmp").write_text("half")
    (tmp_path / "a/other.tmp").write_text("not ours")
    assert w.remove_temp_files("a") == 1
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["other.tmp", "x.md"]


def test_a_folder_removed_between_writes_is_made_again(tmp_path: Path) -> None:
    w = Writer(tmp_path)
    w.write("a/b/one.html", b"1")
    (tmp_path / "a/b/one.html").unlink()
    (tmp_path / "a/b").rmdir()
    assert w.write("a/b/two.html", b"2").changed
    assert (tmp_path / "a/b/two.html").read_bytes() == b"2"
