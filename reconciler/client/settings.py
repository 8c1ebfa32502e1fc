"""Where the API is and how to talk to it: `ClientSettings`, read from the environment.

Validation happens on construction, so no client can exist with a missing key, a key that would
break a header, or a plain-http URL to anything but loopback (the key would travel in clear).
The key is kept out of the repr, and no message here quotes it.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Self

import httpx

from reconciler.errors import ConfigError

DEFAULT_API_URL: Final = "https://api.coperniq.io/v1"
API_URL_ENV: Final = "COPERNIQ_API_URL"
API_KEY_ENV: Final = "COPERNIQ_API_KEY"
BASE_PATHS: Final = ("/opportunities", "/requests")
_MIN_KEY_LENGTH: Final = 8  # reconciler.cli.redact relies on keys being long enough to redact


# A deliberate copy of sandbox/config.is_loopback: the sandbox shares no code with the core.
def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ClientSettings:
    """How to reach the API. Validated on construction; the key never appears in the repr."""

    base_url: str = DEFAULT_API_URL
    api_key: str = field(default="", repr=False)
    base_path: str = "/opportunities"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6
    max_retry_seconds: float = 60.0  # total time one call may spend retrying
    backoff_base: float = 0.5  # first retry waits up to this long (full jitter), then doubles
    backoff_max: float = 8.0
    rate_per_second: int = 100
    # The server's sliding window is one second; the limiter counts a request until this long
    # after its answer (see ratelimit.py), a touch more than one second for timer granularity.
    rate_window: float = 1.02
    concurrency: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.strip().rstrip("/"))
        # The URL is named in errors: only its scheme, host, port and path, and never the key
        # should someone have pasted it into the path.
        shown = public_url(self.base_url)
        if self.api_key:
            shown = shown.replace(self.api_key, "***")
        _refuse_secrets(self.base_url, shown)
        url = _parse_url(self.base_url, shown)
        if url.scheme == "http" and not _is_loopback(url.host):
            raise ConfigError(
                f"Refusing to send the API key over plain http:// to {shown}: "
                "it would travel unencrypted.",
                hint=f"use an https:// URL in {API_URL_ENV} or --api-url "
                "(plain http:// is allowed only to localhost / 127.0.0.1 / ::1)",
            )
        key = self.api_key
        if not key.strip():
            raise ConfigError(
                f"No API key: {API_KEY_ENV} is not set.",
                hint=f"set {API_KEY_ENV} to your Coperniq API key (Company settings > API keys)",
            )
        if len(key) < _MIN_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
            # Said without quoting the key: a malformed key may still be a real one.
            raise ConfigError(
                f"{API_KEY_ENV} does not look like an API key (it must be at least "
                f"{_MIN_KEY_LENGTH} printable ASCII characters without spaces or newlines).",
                hint=f"copy the key again into {API_KEY_ENV}, without quotes or a trailing newline",
            )
        if self.base_path not in BASE_PATHS:
            raise ConfigError(
                f"Unknown base path {self.base_path!r}.",
                hint="use --base-path /opportunities or --base-path /requests",
            )
        numbers = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_attempts": self.max_attempts,
            "rate_per_second": self.rate_per_second,
            "rate_window": self.rate_window,
            "concurrency": self.concurrency,
        }
        for name, value in numbers.items():
            if not value > 0:
                raise ConfigError(f"Client setting {name} must be positive, not {value}.")
        if self.max_retry_seconds < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ConfigError("Client retry settings must not be negative.")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        api_url: str | None = None,
        base_path: str | None = None,
        **overrides: Any,
    ) -> Self:
        """Settings from `COPERNIQ_API_URL` / `COPERNIQ_API_KEY`; `api_url` (--api-url) wins."""
        url = api_url or environ.get(API_URL_ENV) or DEFAULT_API_URL
        key = environ.get(API_KEY_ENV, "")
        return cls(base_url=url, api_key=key, base_path=base_path or "/opportunities", **overrides)


def public_url(raw: str) -> str:
    """The parts of a URL that may be printed: scheme, host, port and path; never user-info,
    a query or a fragment (they may hold passwords and tokens)."""
    try:
        parts = urllib.parse.urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else "(an invalid URL)"


def _refuse_secrets(raw: str, shown: str) -> None:
    """A URL holding user-info, a query or a fragment: refused, since httpx would send the
    user-info as Basic credentials and the base URL's query would silently replace each
    request's own (dropping its path parameters)."""
    try:
        parts = urllib.parse.urlsplit(raw)
    except ValueError:
        return  # not a URL: _parse_url says so
    found = [
        what
        for what, present in (
            ("user-info (user:password@)", "@" in parts.netloc),
            ("a query (?...)", "?" in raw),
            ("a fragment (#...)", "#" in raw),
        )
        if present
    ]
    if found:
        raise ConfigError(
            f"The API URL {shown} holds {' and '.join(found)}: refused, and not printed. "
            "The API URL names only scheme, host, port and path.",
            hint=f"remove it from {API_URL_ENV} / --api-url; the key goes in {API_KEY_ENV} "
            f"only, never in the URL (e.g. {DEFAULT_API_URL})",
        )


def _parse_url(raw: str, shown: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        raise ConfigError(
            f"Invalid API URL {shown}.",
            hint=f"set {API_URL_ENV} or --api-url to a URL like {DEFAULT_API_URL}",
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"Invalid API URL {shown}: it needs https:// and a host.",
            hint=f"set {API_URL_ENV} or --api-url to a URL like {DEFAULT_API_URL}",
        )
    return url
