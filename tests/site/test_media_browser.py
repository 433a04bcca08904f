"""Audio and video enclosures on a post page, in headless Chromium (issue #17).

A feed's item carries a LOCAL audio and a LOCAL video enclosure: files served by the same
loopback server as the site (a 0.5 s WAV tone written with ``wave``; a short VP8 WebM that
Chromium itself records from a canvas with ``MediaRecorder``, so no codec tool is needed).
The post page must show both players with their controls, play nothing by itself (nothing
is even fetched before the reader asks: ``preload="none"``), load each file's metadata when
asked, and show the feed's duration and size and a download link. Tags link their pages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.browser import Browser, SiteServer, goto
from tests.site.mediasite import Item, Media, MediaSite, media_site, wav_bytes

pytestmark = pytest.mark.browser

#: Records ~0.6 s of a changing 64x48 canvas as WebM (VP8); returns it base64-encoded.
RECORD_WEBM = """async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 48;
    document.body.appendChild(canvas);
    const g = canvas.getContext('2d');
    const recorder = new MediaRecorder(canvas.captureStream(25),
                                       {mimeType: 'video/webm;codecs=vp8'});
    const chunks = [];
    recorder.ondataavailable = e => chunks.push(e.data);
    const stopped = new Promise(r => recorder.onstop = r);
    recorder.start();
    for (let i = 0; i < 15; i++) {
        g.fillStyle = `hsl(${i * 24}, 70%, 50%)`;
        g.fillRect(0, 0, 64, 48);
        await new Promise(r => setTimeout(r, 40));
    }
    recorder.stop();
    await stopped;
    canvas.remove();
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
}"""

#: Loads an element's metadata (as a reader's click on play would start to) and reports.
LOAD_METADATA = """async (el) => {
    if (el.readyState < 1) {
        await new Promise((resolve, reject) => {
            el.addEventListener('loadedmetadata', resolve, {once: true});
            el.addEventListener('error', () => reject(new Error('media error ' +
                (el.error && el.error.code))), {once: true});
            el.preload = 'metadata';
            el.load();
        });
    }
    return {readyState: el.readyState, duration: el.duration, paused: el.paused,
            width: el.videoWidth || 0, time: el.currentTime};
}"""

STATE = """els => els.map(el => ({tag: el.tagName, controls: el.controls, paused: el.paused,
    autoplay: el.autoplay, preload: el.getAttribute('preload'), time: el.currentTime,
    networkState: el.networkState, src: el.currentSrc || el.src,
    visible: el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0}))"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteServer, MediaSite]]:
    root = tmp_path_factory.mktemp("media")
    out = root / "public"
    (out / "media").mkdir(parents=True)
    with SiteServer(out) as server:
        wav = wav_bytes()
        (out / "media" / "tone.wav").write_bytes(wav)
        item = Item(
            "m1",
            "Local media",
            1,
            ("Podcast", "视频"),
            (  # shown in this order: RSS enclosures, then media:content
                Media(server.url("media/clip.webm"), "video/webm", 1_572_864),
                Media(server.url("media/tone.wav"), "audio/wav", len(wav), 3725, "audio"),
            ),
        )
        site = media_site(root, [item], out=out)
        yield server, site


@pytest.fixture(scope="module")
def browser(served: tuple[SiteServer, MediaSite]) -> Iterator[Browser]:
    with Browser(served[0].origin) as b:
        yield b


def post_page(out: Path) -> str:
    (page,) = (out / "posts").glob("*.html")
    return f"posts/{page.name}"


def test_players_play_nothing_by_themselves(
    browser: Browser, served: tuple[SiteServer, MediaSite]
) -> None:
    server, site = served
    tab = browser.open()
    goto(tab, server.url("index.html"))
    webm = base64.b64decode(tab.page.evaluate(RECORD_WEBM))
    assert webm[:4] == b"\x1a\x45\xdf\xa3", "not a WebM file"
    (site.out / "media" / "clip.webm").write_bytes(webm)

    goto(tab, server.url(post_page(site.out)))
    tab.page.wait_for_timeout(500)  # time enough for anything to start by itself
    players = tab.page.eval_on_selector_all("audio, video", STATE)
    assert [p["tag"] for p in players] == ["VIDEO", "AUDIO"]
    for p in players:
        assert p["controls"] and p["visible"] and p["preload"] == "none", p
        assert p["paused"] and not p["autoplay"] and p["time"] == 0, p
    # preload="none": not a byte of either file is fetched before the reader asks.
    assert not [u for u in tab.traffic.to_site if "/media/" in u], tab.traffic.to_site

    captions = tab.page.locator("figure.enclosure figcaption").all_inner_texts()
    assert "1.5 MB" in captions[0] and "Duration" not in captions[0]
    assert "1:02:05" in captions[1] and "KB" in captions[1] and "下载 Download" in captions[1]
    hrefs = tab.page.eval_on_selector_all("figcaption a.download", "as => as.map(a => a.href)")
    assert hrefs == [p["src"] for p in players]

    audio = tab.page.eval_on_selector("audio", LOAD_METADATA)
    assert audio["readyState"] >= 1 and abs(audio["duration"] - 0.5) < 0.05, audio
    video = tab.page.eval_on_selector("video", LOAD_METADATA)
    # A recorded WebM states no duration (Infinity until read through); its frames' size
    # says Chromium decoded it.
    assert video["readyState"] >= 1 and video["width"] == 64, video
    assert audio["paused"] and video["paused"] and audio["time"] == video["time"] == 0
    tab.page.wait_for_timeout(300)
    still = tab.page.eval_on_selector_all("audio, video", STATE)
    assert all(p["paused"] and p["time"] == 0 for p in still), still

    # The tags link their pages.
    tags = tab.page.locator("p.tags a")
    assert tags.all_inner_texts() == ["Podcast", "视频"]
    with tab.page.expect_navigation():
        tags.first.click()
    assert tab.page.locator("h1").inner_text().startswith("Podcast")
    # With preload="metadata" Chromium stops each download once it has the metadata
    # (net::ERR_ABORTED): the browser's doing, not the site's.
    problems = [
        p for p in tab.traffic.problems() if not ("/media/" in p and p.endswith("net::ERR_ABORTED"))
    ]
    assert not problems, problems
