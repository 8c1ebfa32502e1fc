"""Which transport failures are permanent: no retry within a minute can cure them.

httpx wraps the OS's and OpenSSL's errors (`ConnectError` from `httpcore.ConnectError` from
`socket.gaierror` or `ssl.SSLError`); this walks the chain. Permanent: a host name the resolver
says does not exist, and a TLS handshake that failed on the protocol or the certificate (TLS
spoken to a plain-HTTP port, a certificate for another host). Everything else (refused or reset
connections, timeouts, a resolver that answered "try again") stays retryable.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

# The resolver's "no such name" answers; EAI_AGAIN ("temporary failure") is left retryable.
_NO_SUCH_NAME = frozenset(
    getattr(socket, name)
    for name in ("EAI_NONAME", "EAI_NODATA", "EAI_FAIL", "EAI_ADDRFAMILY")
    if hasattr(socket, name)
)


@dataclass(frozen=True, slots=True)
class Permanent:
    """Why a transport failure will not go away by retrying, and what to check."""

    reason: str
    hint: str


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def permanent(error: BaseException, host: str, url_setting: str) -> Permanent | None:
    """The reason `error` (an httpx transport error) is permanent, or None when it may pass."""
    for cause in _chain(error):
        if isinstance(cause, socket.gaierror) and cause.errno in _NO_SUCH_NAME:
            return Permanent(
                f"the host name {host} does not resolve ({cause.strerror})",
                f"check the host name in {url_setting}",
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            return Permanent(
                f"TLS failed: the server's certificate is not valid "
                f"({cause.verify_message or cause.reason})",
                f"check the host in {url_setting}; a proxy that intercepts TLS needs its "
                "certificate authority trusted (SSL_CERT_FILE)",
            )
        if isinstance(cause, ssl.SSLError) and not isinstance(
            cause, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLWantReadError
        ):
            return Permanent(
                f"TLS failed: the server does not speak TLS here ({cause.reason or cause})",
                f"check the scheme and port in {url_setting}: https:// to a TLS port, "
                "http:// for a local sandbox",
            )
    return None
