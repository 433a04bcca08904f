"""``describe_error``: every aiohttp exception gets its kind and the cause httpx gave it.

The cases a loopback server provokes are in test_network.py and test_faults.py; these are
the ones it cannot (a connect timeout, a proxy's refusal) or that depend on the phase.
"""

from __future__ import annotations

import errno
import socket
import ssl

import aiohttp
import pytest
from aiohttp import http_exceptions
from yarl import URL

from feedsite._fetch._http import _BadURL, _Progress, _Unsendable, describe_error
from tests.fetch.support import quick

SETTINGS = quick(timeout=30.0, connect_timeout=10.0, read_timeout=20.0)


def _refused() -> aiohttp.ClientConnectorError:
    cause = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9)")
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None, None)
    try:
        raise aiohttp.ClientConnectorError(key, cause) from cause
    except aiohttp.ClientConnectorError as exc:
        return exc


def _unresolved(code: int, text: str) -> aiohttp.ClientConnectorError:
    cause = socket.gaierror(code, text)
    key = aiohttp.client_reqrep.ConnectionKey(
        "img.example", 80, False, True, None, None, None, None
    )
    try:
        raise aiohttp.ClientConnectorError(key, cause) from cause
    except aiohttp.ClientConnectorError as exc:
        return exc


def test_a_name_that_does_not_exist_is_final_a_resolver_failure_is_retried() -> None:
    # final: not retried (a host of many images would cost a backoff per image)
    assert _describe(_unresolved(socket.EAI_NONAME, "Name or service not known")) == (
        "final",
        "cannot connect: Name or service not known",
    )
    assert _describe(_unresolved(socket.EAI_AGAIN, "Temporary failure in name resolution")) == (
        "connect",
        "cannot connect: Temporary failure in name resolution",
    )


def _payload_error(underlying: Exception, message: str) -> aiohttp.ClientPayloadError:
    try:
        raise aiohttp.ClientPayloadError(message) from underlying
    except aiohttp.ClientPayloadError as exc:
        return exc


def _describe(exc: Exception, phase: str = "response", received: int = 0) -> tuple[str, str]:
    progress = _Progress(url="http://h/feed", phase=phase, received=received, expected=900)  # type: ignore[arg-type]
    return describe_error(exc, SETTINGS, progress)


@pytest.mark.parametrize(
    ("exc", "phase", "expected"),
    [
        (
            aiohttp.ConnectionTimeoutError(),
            "response",
            ("timeout", "timed out after 10.0 s connecting"),
        ),
        (
            aiohttp.SocketTimeoutError(),
            "response",
            ("timeout", "timed out after 20.0 s without data waiting for the response"),
        ),
        (
            aiohttp.SocketTimeoutError(),
            "body",
            ("timeout", "timed out after 20.0 s without data reading the body, 512 bytes received"),
        ),
        (
            TimeoutError(),
            "response",
            ("timeout", "timed out after 30.0 s waiting for the response"),
        ),
        (_refused(), "response", ("connect", "cannot connect: Connection refused")),
        (
            aiohttp.ServerDisconnectedError(),
            "response",
            ("protocol", "protocol error: Server disconnected without sending a response."),
        ),
        (
            aiohttp.ServerDisconnectedError(),
            "body",
            ("network", "connection error: server disconnected after 512 body bytes"),
        ),
        (
            _payload_error(
                http_exceptions.ContentLengthError("Not enough data"),
                "Response payload is not completed: <ContentLengthError>",
            ),
            "body",
            (
                "protocol",
                "protocol error: peer closed connection without sending complete message body "
                "(received 512 bytes, expected 900)",
            ),
        ),
        (
            _payload_error(
                http_exceptions.TransferEncodingError("Not enough data"),
                "Response payload is not completed: <TransferEncodingError>",
            ),
            "body",
            (
                "protocol",
                "protocol error: peer closed connection without sending complete message body "
                "(incomplete chunked read)",
            ),
        ),
        (
            _payload_error(
                http_exceptions.ContentLengthError("Not enough data"),
                "Response payload is not completed: <ContentLengthError>. "
                "ConnectionResetError(104, 'Connection reset by peer')",
            ),
            "body",
            ("network", "connection error: Connection reset by peer after 512 body bytes"),
        ),
        (
            aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer"),
            "body",
            ("network", "connection error: Connection reset by peer after 512 body bytes"),
        ),
        (_BadURL("scheme 'ftp'"), "response", ("final", "unsupported URL: scheme 'ftp'")),
        (
            _Unsendable("Forbidden control character"),
            "response",
            ("final", "cannot send the request: Forbidden control character"),
        ),
    ],
)
def test_causes(exc: Exception, phase: str, expected: tuple[str, str]) -> None:
    assert _describe(exc, phase, received=512 if phase == "body" else 0) == expected


def test_a_proxys_refusal_names_its_status() -> None:
    info = aiohttp.RequestInfo(URL("https://h/feed"), "GET", {})  # type: ignore[arg-type]
    refusal = aiohttp.ClientHttpProxyError(
        info, (), status=407, message="Proxy Authentication Required"
    )

    assert _describe(refusal) == ("connect", "proxy error: HTTP 407 Proxy Authentication Required")


def test_a_malformed_response_head_is_a_protocol_error() -> None:
    info = aiohttp.RequestInfo(URL("https://h/feed"), "GET", {})  # type: ignore[arg-type]
    bad = aiohttp.ClientResponseError(info, (), status=400, message="Invalid status line")

    assert _describe(bad) == ("protocol", "protocol error: Invalid status line")


def test_a_certificate_failure_says_why() -> None:
    failure = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    failure.verify_message = "self-signed certificate"
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None, None)
    try:
        raise aiohttp.ClientConnectorCertificateError(key, failure) from failure
    except aiohttp.ClientConnectorCertificateError as exc:
        error = exc

    assert _describe(error) == (
        "connect",
        "cannot connect: certificate verify failed: self-signed certificate",
    )
