"""A hostile API server on 127.0.0.1: every string it returns is crafted to break an output.

Not an emulator of the contract (the sandbox is that): it answers just enough of the API for
plan, drift, adopt and apply to run against it, with record data, user names, catalogue
options and error messages holding terminal escapes, workflow commands and Markdown.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

EVIL = (
    "\x1b[31mred\x1b[0m \x07bell \x00nul \x9b31m csi \u202eevil\u202c "
    "\n::warning::injected\n  ::error::indented\r::notice::cr ##[error]legacy "
    "@octocat #1 <img src=x onerror=alert(1)> </details> [link](https://evil.example/a) "
    "![img](https://evil.example/i.png) www.evil.example *bold* `tick` | pipe"
)
"""Every surface's dangerous text in one string: terminal, workflow commands and Markdown."""

MD_EVIL = (
    "\n::warning::injected ##[error]legacy @octocat #1 <img src=x onerror=alert(1)> "
    "</details> [link](https://evil.example/a) ![img](https://evil.example/i.png) "
    "www.evil.example *bold* `tick` | pipe"
)
"""What a desired-state file may legitimately hold (newlines, but no other control character)."""


def hostile_record(record_id: int) -> dict[str, Any]:
    return {
        "id": record_id,
        "title": f"live {EVIL}",
        "address": [f"1 {EVIL} St"],
        "trades": ["Solar", EVIL],
        "description": EVIL,
        "custom": {"notes": EVIL},
        "isActive": True,
        "updatedAt": f"2026-01-01T00:00:00Z{EVIL}",
        "updatedBy": {"id": 7, "firstName": EVIL, "lastName": "x", "email": "a@b.example"},
    }


class _Handler(BaseHTTPRequestHandler):
    records: ClassVar[dict[int, dict[str, Any]]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-RateLimit-Remaining", "4000")
        self.send_header("X-RateLimit-Limit", "5000")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        if segments == ["properties"]:
            options = [{"value": "Solar"}, {"value": EVIL}]
            self._send(
                200,
                {
                    "opportunity": [
                        {"keyName": "trades", "type": "MULTISELECT", "options": options},
                        {"keyName": "notes", "type": "TEXT", "isCustom": True},
                    ]
                },
            )
        elif segments == ["opportunities"]:
            page = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("page")
            self._send(200, list(self.records.values()) if page == "1" else [])
        elif len(segments) == 2 and segments[1].isdigit():
            record = self.records.get(int(segments[1]))
            if record is None:
                self._send(404, {"message": EVIL, "code": "NOT_FOUND"})
            else:
                self._send(200, record)
        else:
            self._send(404, {"message": EVIL})

    def do_PATCH(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self._send(400, {"message": EVIL, "code": f"BAD{EVIL}", "field": f"custom.{EVIL}"})


@contextmanager
def hostile_server(*ids: int) -> Iterator[str]:
    """Serve hostile records with these ids; yields the base URL."""
    handler = type("Handler", (_Handler,), {"records": {i: hostile_record(i) for i in ids}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
