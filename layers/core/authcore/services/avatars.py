"""QR codes as PNG images (API.md §4.7), for authenticator apps to scan from an <img>."""

from __future__ import annotations

import struct
import zlib

import segno

BLACK, WHITE = 0, 255


def qr_png(text: str, size: int, margin: int) -> bytes:
    """A `size` x `size` grayscale PNG of `text` as a QR code (error correction M) with a quiet zone
    of `margin` modules.

    segno encodes the symbol. The PNG is written here because segno only scales by whole pixels
    per module; an exact size needs nearest-neighbour scaling, which scanners read as usual (a
    module is at most one pixel wider than its neighbour).
    """
    matrix = list(segno.make(text, error="m", micro=False, encoding="utf-8").matrix_iter(scale=1, border=margin))
    modules = len(matrix)
    columns = [x * modules // size for x in range(size)]
    scaled = [b"\x00" + bytes(BLACK if row[c] else WHITE for c in columns) for row in matrix]  # filter byte: none
    pixels = b"".join(scaled[y * modules // size] for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit grayscale, not interlaced
    chunks = (_chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(pixels, 6)), _chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
