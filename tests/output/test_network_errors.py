"""Permanent network errors fail fast; transient ones keep their retries (issue 9 point 13).

A host name that does not resolve, or TLS spoken to a plain-HTTP port, will not change within
the retry window: they are reported after one attempt, without "a rerun converges". A refused
connection (a server restarting) is still retried.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from reconciler.client import ApiClient, ClientSettings
from reconciler.errors import ApiUnreachable

from .conftest import Site

KEY = "k" * 20
UNRESOLVABLE = "https://does-not-exist.invalid/v1"  # RFC 2606: .invalid never resolves


def fetch(url: str) -> tuple[ApiUnreachable, int]:
    settings = ClientSettings(base_url=url, api_key=KEY, backoff_base=0.01, backoff_max=0.02)

    async def go() -> tuple[ApiUnreachable, int]:
        async with ApiClient(settings) as client:
            with pytest.raises(ApiUnreachable) as info:
                await client.get(1)
            return info.value, client.requests_sent

    return asyncio.run(go())


def test_a_name_that_does_not_resolve_is_not_retried() -> None:
    error, sent = fetch(UNRESOLVABLE)
    assert sent == 1
    assert not error.retryable
    assert "does-not-exist.invalid does not resolve" in error.message
    assert "converges" not in str(error)


def test_tls_to_a_plain_http_port_is_not_retried(site: Site) -> None:
    url = site.sandbox.base_url.replace("http://", "https://")
    error, sent = fetch(url)
    assert sent == 1
    assert not error.retryable
    assert "TLS" in error.message and "WRONG_VERSION_NUMBER" in error.message
    assert "converges" not in str(error)
    assert "http://" in (error.hint or "")


def test_a_refused_connection_is_still_retried() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error, sent = fetch(f"http://127.0.0.1:{port}/v1")
    assert sent == 6
    assert error.retryable
    assert "after 6 attempts" in error.message
    assert "a rerun converges" in str(error)


@pytest.mark.parametrize("kind", ["dns", "tls"])
def test_the_cli_says_what_to_fix(site: Site, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    url = UNRESOLVABLE if kind == "dns" else site.sandbox.base_url.replace("http://", "https://")
    monkeypatch.setenv("COPERNIQ_API_URL", url)
    code, _, err = site.run("plan")
    assert code == 1
    assert "attempts" not in err and "converges" not in err
    assert "not retried" in err
