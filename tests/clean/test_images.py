"""The first-image rule (``_clean/_images.py``), shared by both targets (issue #11 item 7)."""

from __future__ import annotations

from feedsite._clean import clean_html, first_img_src


def test_first_safe_image_wins() -> None:
    body = (
        '<img src="javascript:alert(1)"><img src="data:image/png;base64,AA">'
        "<img src='https://i.example/a.jpg?w=1&amp;h=2'><img src=\"https://i.example/b.jpg\">"
    )
    assert first_img_src(body) == "https://i.example/a.jpg?w=1&h=2"


def test_relative_sources_need_a_base() -> None:
    assert first_img_src('<img src="/a.jpg">') is None
    assert first_img_src('<img src="/a.jpg">', "https://site.example/x/") == (
        "https://site.example/a.jpg"
    )


def test_none_and_no_image() -> None:
    assert first_img_src(None) is None
    assert first_img_src("") is None
    assert first_img_src("<p>text</p>") is None


def test_on_a_cleaned_body() -> None:
    body = clean_html(
        '<p><img data-src="/lazy.jpg" src="data:image/gif;base64,R0"></p>',
        base_url="https://site.example/post/1",
        iframe_hosts=(),
    )
    assert first_img_src(body) == "https://site.example/lazy.jpg"


def test_both_targets_use_this_one() -> None:
    from feedsite._targets.hexo import _default, _legacy
    from feedsite._targets.site import _plan

    for module in (_default, _legacy, _plan):
        assert vars(module)["first_img_src"] is first_img_src
