"""Draw a JPEG in a terminal: each cell is '▀' with the top pixel as foreground, bottom as back."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text


def decode_jpeg(data: bytes) -> Any | None:
    """Return the image as an RGB numpy array, or None when the bytes are not an image."""
    import cv2  # imported lazily: OpenCV is heavy and only the Cameras view needs it
    import numpy as np

    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def fit(src_w: int, src_h: int, cols: int, rows: int) -> tuple[int, int]:
    """Return (cols, rows) that fit the box and keep the aspect ratio (a cell is 1x2 pixels)."""
    if src_w <= 0 or src_h <= 0 or cols <= 0 or rows <= 0:
        return 0, 0
    scale = min(cols / src_w, (rows * 2) / src_h)
    return max(1, int(src_w * scale)), max(1, int(src_h * scale / 2))


def render(rgb: Any, cols: int, rows: int) -> Text:
    """Return rich Text of at most cols x rows cells drawing the RGB image."""
    import cv2

    h, w = rgb.shape[:2]
    cw, ch = fit(w, h, cols, rows)
    if cw == 0:
        return Text("")
    small = cv2.resize(rgb, (cw, ch * 2), interpolation=cv2.INTER_AREA)
    text = Text(no_wrap=True, overflow="crop")
    styles: dict[tuple[int, ...], Style] = {}
    for y in range(ch):
        top, bottom = small[2 * y], small[2 * y + 1]
        for x in range(cw):
            key = (*top[x], *bottom[x])
            style = styles.get(key)
            if style is None:
                style = styles[key] = Style.parse(
                    f"rgb({key[0]},{key[1]},{key[2]}) on rgb({key[3]},{key[4]},{key[5]})"
                )
            text.append("▀", style)
        if y < ch - 1:
            text.append("\n")
    return text
