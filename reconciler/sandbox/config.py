"""The sandbox's settings: start options (`SandboxConfig`) and the faults it injects (`Faults`).

Both are frozen values. `Faults` can be replaced while the server runs (in-process or over
`PUT /_sandbox/faults`), so it also knows how to read itself from a JSON mapping and say which
key is wrong.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from reconciler.sandbox.errors import SandboxError

_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"})


def _number(name: str, value: object, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Faults:
    """Faults injected into API answers (never into /_sandbox/ routes).

    `latency` seconds (plus up to `jitter` more) delay every targeted request. Of the targeted
    requests, a fraction `error_rate` is answered 500, 502 or 503 and `throttle_rate` 429, both
    decided before handling, so nothing is written. Independently, `drop_rate` of the handled
    requests lose their answer: the write happens, then the connection is cut mid-body. `methods`
    limits all of it to some HTTP methods (None: every method). One random stream seeded with
    `seed` decides, one draw set per targeted request in arrival order, so a sequential client
    sees the same faults on every run.
    """

    latency: float = 0.0
    jitter: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0
    methods: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("latency", "jitter"):
            _number(name, getattr(self, name), low=0.0, high=60.0)
        for name in ("error_rate", "throttle_rate", "drop_rate"):
            _number(name, getattr(self, name), low=0.0, high=1.0)
        if self.error_rate + self.throttle_rate > 1.0:
            raise ValueError("error_rate + throttle_rate must not exceed 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.methods is not None:
            upper = frozenset(m.upper() for m in self.methods)
            unknown = sorted(upper - _METHODS)
            if unknown:
                raise ValueError(f"methods: unknown HTTP method(s) {', '.join(unknown)}")
            object.__setattr__(self, "methods", upper)

    @property
    def active(self) -> bool:
        return bool(
            self.latency or self.jitter or self.error_rate or self.throttle_rate or self.drop_rate
        )

    def targets(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["methods"] = None if self.methods is None else sorted(self.methods)
        return out

    @classmethod
    def from_mapping(cls, data: object) -> Faults:
        """Read faults from decoded JSON; a ValueError names the offending key."""
        if not isinstance(data, Mapping):
            raise ValueError("faults must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = dict(data)
        methods = kwargs.get("methods")
        if methods is not None:
            if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
                raise ValueError("methods must be a list of HTTP method names or null")
            kwargs["methods"] = frozenset(methods)
        return cls(**kwargs)


# A deliberate copy of client/settings._is_loopback: the sandbox shares no code with the core.
def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How a sandbox starts.

    `api_key` is generated when None. `extra_api_keys` are further accepted keys, each with its
    own rate-limit windows. `require_full_patch` makes PATCH demand title, address and trades, as
    the published schema literally says. `normalize_phones` and `replace_custom` emulate the
    other answers to CONTRACT's open questions 4 and 1: a server that stores phones in its own
    format (+1XXXXXXXXXX), and one whose PATCH replaces `custom` instead of merging it. `db` is a
    SQLite file (state survives a restart) or None (memory). A non-loopback `host` is refused
    unless `allow_remote`: the sandbox has a published key and no TLS.
    """

    api_key: str | None = None
    rate_per_second: int = 100
    rate_per_day: int = 5000
    require_full_patch: bool = False
    normalize_phones: bool = False
    replace_custom: bool = False
    faults: Faults = field(default_factory=Faults)
    db: str | Path | None = None
    extra_api_keys: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    log_limit: int = 100_000

    def __post_init__(self) -> None:
        for name in ("rate_per_second", "rate_per_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SandboxError(f"{name} must be a positive integer, got {value!r}")
        if self.api_key is not None and len(self.api_key) < 8:
            raise SandboxError("api_key must be at least 8 characters")
        if not 0 <= self.port <= 65535:
            raise SandboxError(f"port must be 0..65535, got {self.port}")
        if not is_loopback(self.host) and not self.allow_remote:
            raise SandboxError(
                f"refusing to listen on non-loopback address {self.host!r}: the sandbox has a "
                "known key and no TLS; allow it explicitly (--allow-remote) if you mean it"
            )
