"""ClientSettings: where the key may go, and the errors when it is missing or malformed."""

from __future__ import annotations

import pytest

from reconciler.client import ClientSettings
from reconciler.errors import ConfigError

KEY = "sk-test-0123456789abcdef"


def test_missing_key_says_which_variable_to_set() -> None:
    with pytest.raises(ConfigError) as info:
        ClientSettings.from_env({})
    assert "set COPERNIQ_API_KEY" in str(info.value)


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_key_is_missing(value: str) -> None:
    with pytest.raises(ConfigError, match="COPERNIQ_API_KEY is not set"):
        ClientSettings.from_env({"COPERNIQ_API_KEY": value})


@pytest.mark.parametrize(
    "key", ["short", f"{KEY}\n", f"{KEY} trailing", "ключ-0123456789", f"{KEY}\x00"]
)
def test_malformed_key_is_refused_without_quoting_it(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        ClientSettings.from_env({"COPERNIQ_API_KEY": key})
    assert "does not look like an API key" in str(info.value)
    assert key.strip() not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.coperniq.io/v1",
        "http://10.0.0.5:8080/v1",
        "http://localhost.example.com/v1",
        "http://app.localhost/v1",
        "http://[2001:db8::1]/v1",
        "http://128.0.0.1/v1",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        ClientSettings.from_env({"COPERNIQ_API_KEY": KEY, "COPERNIQ_API_URL": url})
    message = str(info.value)
    assert url in message
    assert "http://" in message and "https://" in message
    assert KEY not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://127.3.2.1/v1",
        "http://[::1]:9000/v1",
        "http://localhost:8000/v1",
        "https://api.coperniq.io/v1",
        "https://10.0.0.5/v1/",
    ],
)
def test_https_anywhere_and_http_to_loopback_are_allowed(url: str) -> None:
    settings = ClientSettings.from_env({"COPERNIQ_API_KEY": KEY, "COPERNIQ_API_URL": url})
    assert settings.base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "api.coperniq.io/v1", "https://"])
def test_an_invalid_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="Invalid API URL"):
        ClientSettings.from_env({"COPERNIQ_API_KEY": KEY, "COPERNIQ_API_URL": url})


@pytest.mark.parametrize(
    "url", [f"http://{KEY}@api.example.test/v1", f"ftp://x/{KEY}", f"http://10.0.0.1/{KEY}"]
)
def test_a_key_pasted_into_the_url_is_not_repeated_in_the_error(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        ClientSettings.from_env({"COPERNIQ_API_KEY": KEY, "COPERNIQ_API_URL": url})
    assert KEY not in str(info.value)
    # In the path it shows as ***; as user-info the URL is refused without its user-info.
    assert "***" in str(info.value) or "holds user-info" in str(info.value)


def test_defaults_and_overrides() -> None:
    env = {"COPERNIQ_API_KEY": KEY, "COPERNIQ_API_URL": "https://example.test/v1"}
    s = ClientSettings.from_env(env)
    assert (s.base_url, s.base_path, s.rate_per_second, s.concurrency) == (
        "https://example.test/v1",
        "/opportunities",
        100,
        8,
    )
    s = ClientSettings.from_env(
        env, api_url="https://other.test/v1", base_path="/requests", concurrency=3
    )
    assert (s.base_url, s.base_path, s.concurrency) == ("https://other.test/v1", "/requests", 3)
    assert ClientSettings.from_env({"COPERNIQ_API_KEY": KEY}).base_url == (
        "https://api.coperniq.io/v1"
    )


def test_unknown_base_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="--base-path"):
        ClientSettings.from_env({"COPERNIQ_API_KEY": KEY}, base_path="/projects")


@pytest.mark.parametrize("name", ["concurrency", "rate_per_second", "max_attempts"])
def test_non_positive_numbers_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ClientSettings.from_env({"COPERNIQ_API_KEY": KEY}, None, None, **{name: 0})


def test_the_key_is_not_in_repr_or_str() -> None:
    s = ClientSettings.from_env({"COPERNIQ_API_KEY": KEY})
    assert KEY not in repr(s)
    assert KEY not in str(s)
    assert s.api_key == KEY
