"""The owners' phones: a loopback HTTP server that receives apprise `json://` notifications.

phones = Phones().start()
url = phones.url("alice")            # json://127.0.0.1:<port>/alice, for the owner's notify list
phones.received("alice")             # [{"title", "message", "attachments", "at", ...}, ...]
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class Phones:
    """A real HTTP server on 127.0.0.1 that keeps every notification posted to /<owner>."""

    def __init__(self, host: str = "127.0.0.1", clock: Callable[[], float] = time.time) -> None:
        self.host, self.clock = host, clock
        self._lock = threading.Lock()
        self._got: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.on_receive: Callable[[dict[str, Any]], None] | None = None

    @property
    def port(self) -> int:
        """The port it listens on (after start)."""
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, owner: str) -> str:
        """Return the apprise URL that reaches this owner's phone."""
        return f"json://{self.host}:{self.port}/{owner}"

    def start(self) -> Phones:
        """Listen on a free port in a daemon thread."""
        phones = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw[:200].decode("utf-8", "replace")}
                phones._keep(self.path.strip("/"), body, dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet: the story says what arrived
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sim-phones", daemon=True
        )
        self._thread.start()
        return self

    def _keep(self, owner: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        attachments = body.get("attachments") or []
        item = {
            "owner": owner,
            "at": self.clock(),
            "title": body.get("title", ""),
            "message": body.get("message", ""),
            "type": body.get("type", ""),
            "attachments": [
                {"filename": a.get("filename"), "mimetype": a.get("mimetype"), "size": _size(a)}
                for a in attachments
                if isinstance(a, dict)
            ],
            "idempotency_key": headers.get("Idempotency-Key"),
        }
        with self._lock:
            self._got.append(item)
        log.info(
            "phone.received owner=%s title=%r attachments=%d",
            owner,
            item["title"],
            len(attachments),
        )
        if self.on_receive is not None:
            self.on_receive(item)

    def received(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Return what arrived (for one owner, or all), oldest first."""
        with self._lock:
            return [g for g in self._got if owner is None or g["owner"] == owner]

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _size(att: dict[str, Any]) -> int:
    data = att.get("base64") or ""
    return len(data) * 3 // 4
