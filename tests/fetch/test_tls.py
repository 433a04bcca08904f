"""HTTPS: which certificate authorities the fetcher trusts (``_clients.tls_context``).

A real TLS server on 127.0.0.1 with a certificate from a CA made here by the ``openssl``
command; the "system store" is the ``SSL_CERT_FILE``/``SSL_CERT_DIR`` that OpenSSL reads.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import pytest

from feedsite._fetch import Fetched, FetchFailure
from feedsite._fetch._clients import tls_context
from tests.fetch.conftest import Fetcher
from tests.fetch.support import quick
from tests.helpers.feedserver import rss

FAST = quick(timeout=5.0, retries=0)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ca.pem`` (a test CA) and ``leaf.pem``/``leaf.key`` (127.0.0.1, signed by it)."""
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=feedsite test CA", "-keyout", "ca.key", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "leaf.key", "-out", "leaf.csr", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "leaf.pem",
             cwd=d)  # fmt: skip
    return d


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = rss().encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def https_url(certs: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "leaf.pem", certs / "leaf.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/feed"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def system_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point OpenSSL's default store at a file the test fills (empty: no system store)."""
    store = tmp_path / "system.pem"
    store.write_text("")
    empty_dir = tmp_path / "certs"
    empty_dir.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(store))
    monkeypatch.setenv("SSL_CERT_DIR", str(empty_dir))
    tls_context.cache_clear()
    yield store
    tls_context.cache_clear()


def test_a_ca_of_the_system_store_is_trusted(
    certs: Path, https_url: str, system_store: Path, fetch: Fetcher
) -> None:
    system_store.write_bytes((certs / "ca.pem").read_bytes())

    outcome = fetch.one(https_url, settings=FAST)

    assert isinstance(outcome, Fetched), outcome
    assert outcome.body.lstrip().startswith(b"<rss")


def test_an_unknown_ca_is_refused_and_named(
    https_url: str, system_store: Path, fetch: Fetcher
) -> None:
    outcome = fetch.one(https_url, settings=FAST)

    assert isinstance(outcome, FetchFailure)
    assert "certificate verify failed" in outcome.message


def test_mozillas_roots_are_trusted_without_a_system_store(system_store: Path) -> None:
    bundle = Path(certifi.where()).read_text()
    roots = bundle.count("-----BEGIN CERTIFICATE-----")
    assert roots > 100

    loaded = tls_context().cert_store_stats()["x509_ca"]

    # The system store is empty here: every root the context holds came from certifi.
    assert loaded == roots


def test_the_fetcher_trusts_certifis_bundle(
    certs: Path,
    https_url: str,
    system_store: Path,
    fetch: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stand the test CA in for Mozilla's bundle: with no system store, only the bundle can
    # make this fetch succeed (the same fetch fails in the test above).
    monkeypatch.setattr(certifi, "where", lambda: str(certs / "ca.pem"))

    outcome = fetch.one(https_url, settings=FAST)

    assert isinstance(outcome, Fetched), outcome
