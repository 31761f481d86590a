"""Helpers for the notifier tests: a loopback webhook receiver, a settable clock, JPEGs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.broker import free_port


class Receiver:
    """An HTTP server that records every POST; it can be taken down and brought back."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.posts: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.status = 200
        self.on_post: Callable[[dict[str, Any]], None] | None = None
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                post = {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": json.loads(body),
                    "t": time.monotonic(),
                }
                if rec.on_post:
                    rec.on_post(post)
                status = rec.status
                if status < 300:
                    with rec.cond:
                        rec.posts.append(post)
                        rec.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Block until at least n posts arrived; return them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.posts) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.posts)} posts arrived, expected {n}")
                self.cond.wait(left)
            return list(self.posts)

    def titles(self) -> list[str]:
        return [p["json"]["title"] for p in self.posts]


class FakeClock:
    """A settable clock for quiet hours and cooldowns; sends still go over real HTTP."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def jpeg_file(path: Path, w: int = 320, h: int = 240) -> Path:
    """Write a real JPEG with some content and return its path."""
    import cv2
    import numpy as np

    img = np.zeros((h, w, 3), np.uint8)
    cv2.rectangle(img, (w // 4, h // 4), (w // 2, h // 2), (0, 200, 255), -1)
    cv2.putText(img, "person", (10, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    path.write_bytes(cv2.imencode(".jpg", img)[1].tobytes())
    return path
