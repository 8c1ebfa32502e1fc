"""A COPERNIQ_API_URL with user-info, a query or a fragment is refused, and no part of a URL
other than scheme, host, port and path is ever printed (issue 9 point 9)."""

from __future__ import annotations

import pytest

from .conftest import Site

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("http://user:{s}@127.0.0.1:{port}", "user-info"),
        ("http://{s}@127.0.0.1:{port}/v1", "user-info"),
        ("http://127.0.0.1:{port}/v1?token={s}", "a query"),
        ("http://127.0.0.1:{port}/v1?", "a query"),
        ("http://127.0.0.1:{port}/v1#{s}", "a fragment"),
    ],
)
@pytest.mark.parametrize("how", ["env", "option"])
def test_credentials_in_the_url_are_refused_and_never_printed(
    site: Site, monkeypatch: pytest.MonkeyPatch, url: str, part: str, how: str
) -> None:
    port = site.sandbox.base_url.rsplit(":", 1)[1].split("/")[0]
    url = url.format(s=SECRET, port=port)
    if how == "env":
        monkeypatch.setenv("COPERNIQ_API_URL", url)
        code, out, err = site.run("plan")
    else:
        code, out, err = site.run("plan", "--api-url", url)
    assert code == 1
    assert f"holds {part}" in err
    assert f"http://127.0.0.1:{port}" in err  # the parts that may be shown are
    assert SECRET not in out + err
    assert "user:" not in err.replace("(user:password@)", "") and "user@" not in err
    assert site.requests() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://user:{s}@[::1",  # not a URL at all
        "ftp://user:{s}@example.com/v1",
        "https://user:{s}@/v1",
        "http://user:{s}@example.com/v1",  # plain http to a remote host
    ],
)
def test_invalid_urls_are_reported_without_their_secrets(
    site: Site, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("COPERNIQ_API_URL", url.format(s=SECRET))
    code, out, err = site.run("plan")
    assert code == 1
    assert "API URL" in err or "http://" in err
    assert SECRET not in out + err
