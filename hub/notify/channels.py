"""One apprise service per channel: the send call, its idempotency key, attachments sized to fit."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.config.owners import ChannelSpec
from hub.notify import NotifyError
from hub.notify.apprise_plugins import instantiate
from hub.notify.policy import NOTIFY_TYPE

log = logging.getLogger(__name__)

# Webhook services where we set the Idempotency-Key header: the receiver can drop a resend.
IDEMPOTENT_SCHEMAS = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_IMAGES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Limits:
    """What a service accepts: largest file, largest image and its longest side."""

    file_bytes: int
    image_bytes: int
    image_side: int


# Figures from each service's documentation; the default is deliberately modest.
_LIMITS = {
    "tgram": Limits(50_000_000, 10_000_000, 2560),
    "ntfy": Limits(15_000_000, 15_000_000, 2560),
    "ntfys": Limits(15_000_000, 15_000_000, 2560),
    "pover": Limits(5_000_000, 5_000_000, 2048),
    "discord": Limits(8_000_000, 8_000_000, 2560),
    "mailto": Limits(20_000_000, 5_000_000, 2048),
    "mailtos": Limits(20_000_000, 5_000_000, 2048),
    "json": Limits(10_000_000, 2_000_000, 1920),
    "jsons": Limits(10_000_000, 2_000_000, 1920),
}
_DEFAULT_LIMITS = Limits(5_000_000, 2_000_000, 1920)


class ChannelError(NotifyError, ValueError):
    """A channel URL that apprise cannot use."""


class _LastAnswer(logging.Handler):
    """Keeps the last warning apprise logged in each thread: the service's answer on failure."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        self.local.text = record.getMessage()

    def take(self) -> str:
        text = getattr(self.local, "text", "")
        self.local.text = ""
        return text


_answers = _LastAnswer()


def _capture_answers() -> None:
    """Route apprise's warnings to _answers only: the sender logs them in its own lines."""
    lg = logging.getLogger("apprise")
    if _answers not in lg.handlers:
        lg.addHandler(_answers)
    # The answer is needed even when the hub logs quietly; one line per failure is ours.
    lg.setLevel(logging.WARNING)
    lg.propagate = False


def _apprise() -> Any:
    # Imported on first use: apprise and requests cost ~8 MB of RSS, which a hub without
    # owners' channels (most of the no-camera installs) should not pay.
    import apprise

    return apprise


def channel_id(url: str) -> str:
    """Return a stable id for a channel that reveals nothing of its URL."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class AppriseChannel:
    """A channel of one owner, sending through its own apprise plugin instance."""

    def __init__(self, spec: ChannelSpec, timeout: float = 10.0):
        _capture_answers()
        plugin = instantiate(spec.url)
        if plugin is None:
            raise ChannelError(f"apprise cannot parse the URL {spec.masked}")
        self.plugin = plugin
        self.id = channel_id(spec.url)
        self.name = spec.masked
        self.owner = spec.owner
        self.schema = spec.url.split("://", 1)[0].lower()
        self.limits = _LIMITS.get(self.schema, _DEFAULT_LIMITS)
        self.idempotent = self.schema in IDEMPOTENT_SCHEMAS and isinstance(
            getattr(plugin, "headers", None), dict
        )
        self._base_headers = dict(plugin.headers) if self.idempotent else {}
        # URL parts not shown in the masked name (tokens, filled secrets), longest first.
        rest = spec.url.split("://", 1)[-1]
        parts = {p for p in re.split(r"[/:@?&=]", rest) if len(p) >= 6 and p not in spec.masked}
        self._secret_parts = sorted(parts, key=len, reverse=True)
        # Apprise's defaults are 4 s each way; a slow receiver must not look like a failure.
        plugin.socket_read_timeout = timeout
        plugin.socket_connect_timeout = min(timeout, 5.0)

    def send(
        self,
        title: str,
        body: str,
        priority: str = "normal",
        attachment: str | None = None,
        key: str | None = None,
    ) -> tuple[bool, str]:
        """Send one message; return (delivered, what the service answered)."""
        path, note = fit_attachment(attachment, self.limits, self.schema)
        if note:
            body = f"{body}\n{note}"
        if self.idempotent and key:
            self.plugin.headers = {**self._base_headers, "Idempotency-Key": key}
        attach = _apprise().AppriseAttachment(path) if path else None
        _answers.take()
        try:
            result = self.plugin.notify(
                body=body or " ",
                title=title,
                notify_type=NOTIFY_TYPE.get(priority, "info"),
                attach=attach,
            )
        except Exception as exc:
            return False, self._scrub(f"{type(exc).__name__}: {exc}")
        # The result is an object whose truth is the outcome (DESIGN.md, known traps).
        ok = bool(result)
        answer = self._scrub(_answers.take())
        return ok, "ok" if ok else (answer or "the service refused the message")

    def _scrub(self, text: str) -> str:
        """Hide any part of the secret URL that an error message may quote."""
        for part in self._secret_parts:
            text = text.replace(part, "****")
        return text


def fit_attachment(path: str | None, limits: Limits, schema: str) -> tuple[str | None, str]:
    """Return the file to attach for a channel (downscaled if needed) and a note for the body."""
    if not path:
        return None, ""
    p = Path(path)
    if not p.is_file():
        return None, f"(attachment {p.name} is no longer on disk)"
    size = p.stat().st_size
    if p.suffix.lower() in _IMAGES:
        return _fit_image(p, size, limits, schema)
    if size > limits.file_bytes:
        return None, f"(clip {p.name}, {size / 1e6:.1f} MB, is too large for this channel)"
    return str(p), ""


def image_size(path: Path) -> tuple[int, int] | None:
    """Return (width, height) of a JPEG or PNG from its header, without decoding it."""
    with path.open("rb") as f:
        head = f.read(24)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if head[:2] != b"\xff\xd8":
            return None
        f.seek(2)
        while True:
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return None
            length = int.from_bytes(f.read(2), "big")
            if length < 2:
                return None
            # SOF0..SOF15 carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
            if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
                sof = f.read(5)
                return int.from_bytes(sof[3:5], "big"), int.from_bytes(sof[1:3], "big")
            f.seek(length - 2, 1)


def _fit_image(p: Path, size: int, limits: Limits, schema: str) -> tuple[str | None, str]:
    dims = image_size(p)
    if dims is not None and size <= limits.image_bytes and max(dims) <= limits.image_side:
        return str(p), ""  # the usual case: no decode on the hot path
    out = p.with_name(f"{p.stem}.{schema}.jpg")
    if out.exists():
        return str(out), ""
    import cv2  # lazily: only images over a channel's limits need it

    img = cv2.imread(str(p))
    if img is None:
        return (str(p), "") if size <= limits.image_bytes else (None, "(image unreadable)")
    h, w = img.shape[:2]
    if size <= limits.image_bytes and max(h, w) <= limits.image_side:
        return str(p), ""
    scale = min(1.0, limits.image_side / max(h, w))
    quality = 85
    while True:
        small = cv2.resize(img, (max(1, int(w * scale)), max(1, int(h * scale))))
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and (len(buf) <= limits.image_bytes or scale < 0.1):
            break
        scale *= 0.7
        quality = max(60, quality - 10)
    out.write_bytes(buf.tobytes())
    log.info("notify.attachment_resized file=%s bytes=%d->%d", p.name, size, len(buf))
    return str(out), ""
