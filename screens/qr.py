"""Payment-link QR codes drawn with half-block characters (two modules per character cell)."""

from __future__ import annotations

import segno
from rich.text import Text


def qr_text(url: str, border: int = 2) -> Text:
    """Light modules drawn as blocks on a dark cell: scannable from a dark terminal."""
    matrix = [list(row) for row in segno.make(url, error="m").matrix]
    size = len(matrix) + 2 * border
    dark = [[False] * size for _ in range(size)]
    for y, row in enumerate(matrix):
        for x, value in enumerate(row):
            dark[y + border][x + border] = bool(value)
    if size % 2:
        dark.append([False] * size)
    lines = []
    for y in range(0, len(dark), 2):
        chars = []
        for top, bottom in zip(dark[y], dark[y + 1], strict=True):
            chars.append({(False, False): "█", (False, True): "▀", (True, False): "▄",
                          (True, True): " "}[(top, bottom)])
        lines.append("".join(chars))
    return Text("\n".join(lines), style="white on black")
