"""Shared fixtures: the read-only corpora, a project folder, a loopback feed server."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the repository (CI lays it there)."""
    if not (SHARED / "corpora").is_dir():
        pytest.fail(f"../shared is missing ({SHARED}): the corpora are needed by this test")
    return SHARED


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running loopback feed server; see ``tests/helpers/feedserver.py``."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Write ``feedsite.yaml`` (dedented) into a temp folder; returns its path."""

    def write(text: str) -> Path:
        path = tmp_path / "feedsite.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True, scope="session")
def no_image_downloads_from_the_internet() -> Iterator[None]:
    """No test downloads an image from the internet: every image request of an in-process
    run must go to 127.0.0.1 or through a loopback proxy (the image host of
    ``tests/helpers/imagehost.py``). A test whose feeds hold real image URLs and that does
    not test images sets ``images: {mode: hotlink}``. Session-wide, so module fixtures
    that run feedsite are guarded too."""
    from feedsite._fetch import _images
    from feedsite._url import url_host

    real = _images.fetch_images

    def guarded(requests: Any, settings: Any, **kwargs: Any) -> Any:
        for r in requests:
            proxy = r.proxy if r.proxy is not None else settings.proxy
            via = url_host(proxy) if proxy else None
            if via != "127.0.0.1" and url_host(r.url) != "127.0.0.1":
                pytest.fail(f"a test downloads an image from the internet: {r.url}")
        return await_(real(requests, settings, **kwargs))

    async def await_(coro: Any) -> Any:
        return await coro

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_images, "fetch_images", guarded)
        yield
