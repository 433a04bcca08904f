"""A body's images: which a post shows (cover first), lazy and srcset-only images found,
and the body as the site writes it when it serves the images itself."""

from __future__ import annotations

import html

import lxml.html
from hypothesis import given
from hypothesis import strategies as st

from feedsite._clean import clean_html, image_urls, localize_images
from feedsite._clean._images import MAX_IMAGES
from feedsite.types import ImageFile, LocalImage


def clean(body: str) -> str:
    return clean_html(body, base_url="https://news.example/a/1", iframe_hosts=())


def test_cover_first_then_body_images_without_repeats() -> None:
    body = clean('<p><img src="/x.png"><img src="https://i.example/y.jpg"><img src="/x.png"></p>')
    assert image_urls(body, ["https://feed.example/enclosure.jpg"]) == (
        "https://news.example/x.png",
        "https://i.example/y.jpg",
    )


def test_no_body_image_the_enclosure_is_the_cover() -> None:
    assert image_urls("<p>text</p>", ["javascript:alert(1)", "https://e.example/c.jpg"]) == (
        "https://e.example/c.jpg",
    )


def test_lazy_and_srcset_only_and_extensionless_images_are_found() -> None:
    body = clean(
        '<img data-original="https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg&amp;from=1"'
        ' src="https://x.example/loading.gif">'
        '<img srcset="https://s.example/a-320.jpg 320w, https://s.example/a-1280.jpg 1280w">'
        '<img data-srcset="https://s.example/b.jpg 1x, https://s.example/b@2x.jpg 2x">'
    )
    assert image_urls(body) == (
        "https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg&from=1",
        "https://s.example/a-1280.jpg",
        "https://s.example/b@2x.jpg",
    )
    assert "srcset" not in body  # a remote candidate list is never kept


def test_at_most_max_images() -> None:
    body = clean("".join(f'<img src="https://i.example/{n}.jpg">' for n in range(MAX_IMAGES + 9)))
    assert len(image_urls(body)) == MAX_IMAGES


def local(url: str, *, small: bool = True) -> LocalImage:
    files = [ImageFile("main", "ab/abcdef.webp", 1280, 720, 1000)]
    if small:
        files.append(ImageFile("small", "ab/abcdef-s.webp", 640, 360, 500))
    return LocalImage(url, tuple(files))


def test_localize_rewrites_only_local_images_with_size_and_srcset() -> None:
    body = clean(
        '<p><img src="https://i.example/a.jpg?x=1&amp;y=2" alt="A" width="9">'
        '<img src="https://i.example/remote.jpg"></p>'
    )
    out = localize_images(body, {"https://i.example/a.jpg?x=1&y=2": local("u")}, "/blog/img/")
    imgs = lxml.html.fromstring(out).findall(".//img")
    assert imgs[0].get("src") == "/blog/img/ab/abcdef.webp"
    assert (imgs[0].get("width"), imgs[0].get("height")) == ("1280", "720")
    assert (
        imgs[0].get("srcset") == "/blog/img/ab/abcdef-s.webp 640w, /blog/img/ab/abcdef.webp 1280w"
    )
    assert imgs[0].get("alt") == "A" and imgs[0].get("loading") == "lazy"
    assert imgs[1].get("src") == "https://i.example/remote.jpg"
    assert imgs[1].get("referrerpolicy") == "no-referrer"


def test_localize_without_a_small_file_writes_no_srcset() -> None:
    body = clean('<img src="https://i.example/a.jpg">')
    out = localize_images(body, {"https://i.example/a.jpg": local("u", small=False)}, "../")
    assert "srcset" not in out and 'src="../ab/abcdef.webp"' in out


@given(st.text(max_size=40))
def test_a_prefix_never_breaks_out_of_the_attribute(prefix: str) -> None:
    body = clean('<img src="https://i.example/a.jpg">')
    out = localize_images(body, {"https://i.example/a.jpg": local("u")}, prefix)
    img = lxml.html.fromstring(f"<div>{out}</div>").find(".//img")
    assert img is not None
    # Exactly the attributes written: nothing injected through the prefix.
    assert set(img.keys()) <= {
        "src",
        "width",
        "height",
        "srcset",
        "sizes",
        "loading",
        "decoding",
        "referrerpolicy",
    }
    assert html.unescape(img.get("src", "")).endswith("ab/abcdef.webp")
