"""A plain-http API gets a TLS context that trusts nothing (no CA bundle loaded, which costs
every command about 0.1 s), never one that skips verification; https gets the system's."""

from __future__ import annotations

import ssl

import pytest

from reconciler.client.api import _tls_context


def test_plain_http_without_a_proxy_trusts_no_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    context = _tls_context("http://127.0.0.1:8080/v1")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0  # any TLS would fail, never pass unchecked


def test_https_and_proxied_http_verify_with_the_system_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _tls_context("https://api.coperniq.io/v1") is True
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example.test:3128")
    assert _tls_context("http://127.0.0.1:8080/v1") is True
