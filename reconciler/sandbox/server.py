"""Running the sandbox: uvicorn on a socket bound up front, in a background thread.

Binding the socket before uvicorn starts makes port 0 usable (the port is known before the first
request) and lets start-up failures surface in the caller's thread. `run_sandbox` is the context
manager tests use; `start_sandbox` returns a handle the CLI stops on Ctrl-C. The handle also
gives in-process access to the request log, faults, limits, reset and stored records, the same
things the /_sandbox/ routes offer over HTTP.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from reconciler.sandbox.app import build_app
from reconciler.sandbox.config import Faults, SandboxConfig
from reconciler.sandbox.errors import SandboxError
from reconciler.sandbox.faults import FaultInjector
from reconciler.sandbox.gate import Runtime, install_log_filter
from reconciler.sandbox.limits import RateLimiter
from reconciler.sandbox.requestlog import LoggedRequest, RequestLog
from reconciler.sandbox.seed import Seed, load_seed
from reconciler.sandbox.service import Service

SeedSource = str | Path | Mapping[str, Any] | Seed | None
_START_TIMEOUT = 15.0


class Sandbox:
    """A running sandbox: where it listens, its key, and in-process control."""

    def __init__(
        self,
        runtime: Runtime,
        server: uvicorn.Server | None,
        thread: threading.Thread | None,
        base_url: str,
        api_key: str,
    ) -> None:
        self._rt = runtime
        self._server = server
        self._thread = thread
        self.base_url = base_url
        self.api_key = api_key

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def requests(self) -> list[LoggedRequest]:
        """The API requests so far, oldest first (control routes are not logged)."""
        return self._rt.log.entries()

    def clear_log(self) -> None:
        self._rt.log.clear()

    def set_faults(self, faults: Faults) -> None:
        """Replace the injected faults; the fault stream restarts from `faults.seed`."""
        self._rt.injector.set(faults)

    def set_limits(
        self, rate_per_second: int | None = None, rate_per_day: int | None = None
    ) -> None:
        """Change the rate limits; every key starts a fresh window."""
        self._rt.limiter.set_limits(rate_per_second, rate_per_day)

    def reset(self) -> None:
        """Restore the seed state and clear the log and the rate-limit windows (faults stay set,
        their random stream restarts)."""
        self._rt.service.reset()
        self._rt.log.clear()
        self._rt.limiter.reset()
        self._rt.injector.reseed()

    def record(self, record_id: int) -> dict[str, Any] | None:
        """The stored record with its write-only `status` and `contacts` and its title as stored,
        archived or not; None when there is no such record."""
        return self._rt.service.record(record_id)

    def count(self) -> int:
        """How many opportunities are stored, archived ones included."""
        return self._rt.service.count()

    def wait(self) -> None:
        """Block until the server stops (the CLI waits here for Ctrl-C)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._rt.service.close()


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise SandboxError(f"cannot resolve host {host!r}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only when it does,
    # and without it every answer written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


def _runtime(seed: SeedSource, config: SandboxConfig) -> tuple[Runtime, str]:
    api_key = config.api_key or "sbx_" + secrets.token_urlsafe(24)
    service = Service(
        seed if isinstance(seed, Seed) else load_seed(seed),
        config.db,
        seed_given=seed is not None,
        require_full_patch=config.require_full_patch,
        normalize_phones=config.normalize_phones,
        replace_custom=config.replace_custom,
    )
    runtime = Runtime(
        service=service,
        limiter=RateLimiter(config.rate_per_second, config.rate_per_day),
        injector=FaultInjector(config.faults),
        log=RequestLog(config.log_limit),
        keys=frozenset((api_key, *config.extra_api_keys)),
    )
    return runtime, api_key


@contextmanager
def in_process_sandbox(
    seed: SeedSource = None, config: SandboxConfig | None = None
) -> Iterator[tuple[Sandbox, ASGIApp]]:
    """The sandbox's ASGI app with no server or thread, for `httpx.ASGITransport`, and its
    handle (request log, faults, limits, stored records). Its `base_url` is a placeholder: the
    transport routes every request to the app."""
    runtime, api_key = _runtime(seed, config or SandboxConfig())
    sandbox = Sandbox(runtime, None, None, "http://sandbox.invalid", api_key)
    try:
        yield sandbox, build_app(runtime)
    finally:
        sandbox.stop()


def start_sandbox(seed: SeedSource = None, config: SandboxConfig | None = None) -> Sandbox:
    """Load the seed, bind, start serving in a thread; stop with `Sandbox.stop()`."""
    config = config or SandboxConfig()
    runtime, api_key = _runtime(seed, config)
    service = runtime.service
    try:
        sock = _bind(config.host, config.port)
    except SandboxError:
        service.close()
        raise
    install_log_filter()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(runtime),
            log_level="warning",
            access_log=False,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="reconciler-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        thread.join(0.01)
    if not server.started:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        service.close()
        raise SandboxError("the sandbox server did not start (see the log above)")
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return Sandbox(runtime, server, thread, f"http://{shown}:{port}", api_key)


@contextmanager
def run_sandbox(seed: SeedSource = None, config: SandboxConfig | None = None) -> Iterator[Sandbox]:
    """A sandbox serving on 127.0.0.1 (port 0 unless configured) for the `with` block."""
    sandbox = start_sandbox(seed, config)
    try:
        yield sandbox
    finally:
        sandbox.stop()
