"""FetchConfig (the fetch stage's settings) and FetchRequest: defaults and validation."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import pytest

from feedsite._fetch import FetchRequest, fetch_all, fetch_all_sync
from feedsite._fetch._clients import client_timeout
from feedsite.config import FetchConfig


def test_defaults() -> None:
    settings = FetchConfig()
    run_values = inspect.signature(fetch_all).parameters

    assert settings.concurrency == 8
    assert settings.per_host == 2
    assert settings.timeout == 30.0
    assert settings.connect_timeout == 10.0
    assert settings.read_timeout == 20.0
    assert settings.max_body == 20 * 1024 * 1024
    assert settings.max_redirects == 10
    assert (settings.retries, settings.backoff_base, settings.backoff_cap) == (2, 0.5, 8.0)
    assert 0 <= run_values["jitter"].default() < 1
    assert run_values["deadline"].default is None
    assert settings.proxy is None
    assert settings.user_agent is None
    assert re.fullmatch(
        r"feedsite/[\w.+-]+ \(\+https://github\.com/feedsite/feedsite\)",
        settings.user_agent_header,
    )


@pytest.mark.parametrize(("configured", "sent"), [("bot/1.0", "bot/1.0"), ("", None), (None, None)])
def test_user_agent_header(configured: str | None, sent: str | None) -> None:
    header = FetchConfig(user_agent=configured).user_agent_header

    assert header == (sent or FetchConfig().user_agent_header)


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
        FetchConfig(**kwargs)


@pytest.mark.parametrize("proxy", [None, "", "http://127.0.0.1:3128", "https://u:p@proxy.example"])
def test_usable_proxies_are_accepted(proxy: str | None) -> None:
    assert FetchConfig(proxy=proxy).proxy == proxy
    assert FetchRequest("k", (), proxy=proxy).proxy == proxy


def test_bad_request_proxy_names_the_feed() -> None:
    with pytest.raises(ValueError, match="proxy of feed 'news'"):
        FetchRequest("news", (), proxy="ftp://proxy.example")


def test_per_run_values_are_arguments_not_settings() -> None:
    # The jitter and the deadline vary per run: they are arguments of fetch_all, so
    # settings compare (and are built once from the config) without them.
    names = {field.name for field in dataclasses.fields(FetchConfig)}

    assert not names & {"jitter", "deadline"}
    assert FetchConfig() == FetchConfig()
    for call in (fetch_all, fetch_all_sync):
        parameters = inspect.signature(call).parameters
        assert parameters["jitter"].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters["deadline"].kind is inspect.Parameter.KEYWORD_ONLY


def test_phase_timeouts_are_capped_by_the_total_timeout() -> None:
    # fetch: {timeout: 7} keeps connect_timeout 10 and read_timeout 20 in the config;
    # the total timeout bounds both phases (no separate phase timeout is set).
    capped = client_timeout(FetchConfig(timeout=7.0))
    shorter = client_timeout(FetchConfig(timeout=7.0, connect_timeout=2.0, read_timeout=3.0))

    assert (capped.sock_connect, capped.sock_read) == (None, None)
    assert (shorter.sock_connect, shorter.sock_read) == (2.0, 3.0)
    # aiohttp's own total and pool waits stay off: ``_http``'s total timeout bounds a try.
    assert (capped.total, capped.connect, shorter.total, shorter.connect) == (None,) * 4
