"""Path components are safe, stable and injective; nothing leaves the root."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsite._targets._paths import MAX_COMPONENT_BYTES, post_relpath, safe_component
from feedsite._targets._writer import Writer
from feedsite.errors import UnsafePathError


@pytest.mark.parametrize(
    ("name", "expected_prefix"),
    [
        ("新媒体", "新媒体"),
        ("AI 研习社", "AI 研习社"),
        ("..", "x~"),
        ("a/b", "a_b~"),
        ("a\\b", "a_b~"),
        ("x\x00y", "x_y~"),
        ("CON", "x-CON~"),
        ("nul.txt", "x-nul.txt~"),
        ("", "x~"),
        (" trailing. ", "trailing~"),
        ("_hidden", "hidden~"),
        (".dot", "dot~"),
        ("<angle>", "angle_~"),
    ],
)
def test_safe_component(name: str, expected_prefix: str) -> None:
    safe = safe_component(name)
    assert safe.startswith(expected_prefix)
    assert safe == name or "~" in safe  # changed names carry a hash of the original


@given(st.text(min_size=0, max_size=300))
def test_component_is_always_safe(name: str) -> None:
    safe = safe_component(name)
    assert safe not in ("", ".", "..")
    assert not safe.startswith(("_", ".")), "Hexo skips such folders"
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert len(safe.encode()) <= max(MAX_COMPONENT_BYTES, len(name.encode()))
    assert len(safe.encode()) <= MAX_COMPONENT_BYTES


@given(st.text(max_size=40), st.text(max_size=40))
def test_component_is_injective(a: str, b: str) -> None:
    if a != b:
        assert safe_component(a) != safe_component(b)


def test_long_name_is_cut_with_hash() -> None:
    name = "长" * 200
    safe = safe_component(name)
    assert len(safe.encode()) <= MAX_COMPONENT_BYTES
    assert safe != safe_component(name + "x")


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30))
def test_post_paths_stay_under_root(
    tmp_path_factory: pytest.TempPathFactory, c: str, s: str, f: str
) -> None:
    root = tmp_path_factory.mktemp("posts")
    rel = post_relpath(c, s, f, "0123456789abcdef")
    path = Writer(root).resolve(rel)
    assert path.is_relative_to(root.resolve())
    assert rel.count("/") == 3


def test_bad_item_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        post_relpath("a", "b", "c", "../../etc/passwd")


@pytest.mark.parametrize("rel", ["../x.md", "/etc/passwd", "a/../../x", "a//b", "", "a/\x00"])
def test_writer_refuses_escapes(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePathError):
        Writer(tmp_path).resolve(rel)


def test_writer_refuses_symlink_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        Writer(root).write("link/x.md", b"x")
    assert not (outside / "x.md").exists()
