"""FetchSettings and FetchRequest: defaults and validation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from feedsite._fetch import FetchRequest, FetchSettings


def test_defaults() -> None:
    settings = FetchSettings()

    assert settings.concurrency == 8
    assert settings.per_host == 2
    assert settings.timeout == 30.0
    assert settings.connect_timeout == 10.0
    assert settings.read_timeout == 20.0
    assert settings.max_body == 20 * 1024 * 1024
    assert settings.max_redirects == 10
    assert (settings.retries, settings.backoff_base, settings.backoff_cap) == (2, 0.5, 8.0)
    assert 0 <= settings.jitter() < 1
    assert settings.deadline is None
    assert settings.proxy is None
    assert re.fullmatch(
        r"feedsite/[\w.+-]+ \(\+https://github\.com/feedsite/feedsite\)", settings.user_agent
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"concurrency": 0},
        {"per_host": 0},
        {"timeout": 0},
        {"timeout": -1.0},
        {"connect_timeout": 0},
        {"read_timeout": -2},
        {"max_body": 0},
        {"max_redirects": -1},
        {"retries": -1},
        {"backoff_base": -0.1},
        {"backoff_base": 2.0, "backoff_cap": 1.0},
        {"proxy": "socks5://127.0.0.1:1080"},
        {"proxy": "http://"},
        {"proxy": "http://127.0.0.1:notaport"},
    ],
)
def test_out_of_range_settings_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FetchSettings(**kwargs)


@pytest.mark.parametrize("proxy", [None, "", "http://127.0.0.1:3128", "https://u:p@proxy.example"])
def test_usable_proxies_are_accepted(proxy: str | None) -> None:
    assert FetchSettings(proxy=proxy).proxy == proxy
    assert FetchRequest("k", (), proxy=proxy).proxy == proxy


def test_bad_request_proxy_names_the_feed() -> None:
    with pytest.raises(ValueError, match="proxy of feed 'news'"):
        FetchRequest("news", (), proxy="ftp://proxy.example")


def test_settings_compare_without_the_jitter_function() -> None:
    assert FetchSettings(jitter=lambda: 0.1) == FetchSettings(jitter=lambda: 0.9)
