"""End to end: the porch camera goes offline and the example rule tells alice over a webhook."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hub.background import HubThread
from hub.broker import free_port

from .conftest import hub_config

HOME_RULES = Path(__file__).resolve().parents[2] / "examples" / "home" / "rules"


class Webhook:
    """A loopback HTTP server that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[dict] = []
        self.arrived = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.arrived:
                    hook.posts.append(json.loads(body))
                    hook.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, timeout: float = 20.0) -> dict:
        with self.arrived:
            assert self.arrived.wait_for(lambda: self.posts, timeout), "no notification"
            return self.posts[0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_porch_camera_offline_notifies_alice(broker, tmp_path, collector):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(HOME_RULES / "health.yaml", rules / "health.yaml")
    hook = Webhook()
    try:
        config = hub_config(
            broker,
            tmp_path / "data",
            devices={"porch_cam": {"type": "camera", "source": str(tmp_path / "unplugged.mp4")}},
            rules=str(rules),
            owners={"alice": {"notify": [f"json://127.0.0.1:{hook.port}/hook"]}},
            notify={"cooldown": 0},
        )
        with HubThread(config):
            offline = collector.wait_event("device.offline", timeout=20)
            post = hook.wait()
    finally:
        hook.close()
    assert offline["source"] == "porch_cam" and offline["data"]["reason"] == "camera"
    assert post["title"] == "Porch camera offline"
    assert "(camera)" in post["message"]
