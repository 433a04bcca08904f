"""FetchSettings defaults and validation."""

from __future__ import annotations

import re

import pytest

from feedsite._fetch import FetchSettings


def test_defaults() -> None:
    settings = FetchSettings()

    assert settings.concurrency == 8
    assert settings.timeout == 30.0
    assert settings.max_body == 20 * 1024 * 1024
    assert re.fullmatch(
        r"feedsite/[\w.+-]+ \(\+https://github\.com/feedsite/feedsite\)", settings.user_agent
    )


@pytest.mark.parametrize(
    "kwargs", [{"concurrency": 0}, {"timeout": 0}, {"timeout": -1.0}, {"max_body": 0}]
)
def test_out_of_range_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FetchSettings(**kwargs)  # type: ignore[arg-type]
