"""QR codes as PNG images (API.md §4.7), for authenticator apps to scan from an <img>."""

from __future__ import annotations

import struct
import zlib

import segno

# segno's module values (1 dark, 0 light) as grayscale pixels.
LIGHT = b"\xff"
PIXELS = bytes.maketrans(b"\x00\x01", LIGHT + b"\x00")
# One mask for every code: letting segno score all eight for the best one was three quarters of a
# request's time, and scanners read any of them (tests/integration/test_avatars.py, every size).
MASK = 0
ROW_FILTER_NONE, ROW_FILTER_UP = b"\x00", b"\x02"


def qr_png(text: str, size: int, margin: int) -> bytes:
    """A `size` x `size` grayscale PNG of `text` as a QR code (error correction M) with a quiet zone
    of `margin` modules.

    segno encodes the symbol. The PNG is written here because segno only scales by whole pixels
    per module; an exact size needs nearest-neighbour scaling, which scanners read as usual (a
    module is at most one pixel wider than its neighbour). A pixel row that repeats the one above
    is written with PNG's Up filter (all zeros), so even zlib's fastest level packs it small.
    """
    symbol = segno.make(text, error="m", micro=False, encoding="utf-8", mask=MASK).matrix
    modules = len(symbol) + 2 * margin
    border, quiet = LIGHT * margin, [LIGHT * modules] * margin
    matrix = [*quiet, *(border + row.translate(PIXELS) + border for row in symbol), *quiet]
    columns = [x * modules // size for x in range(size)]
    scaled = [ROW_FILTER_NONE + bytes(map(row.__getitem__, columns)) for row in matrix]
    source = [y * modules // size for y in range(size)]
    repeated = ROW_FILTER_UP + bytes(size)
    rows = [repeated if y and source[y] == source[y - 1] else scaled[source[y]] for y in range(size)]
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit grayscale, not interlaced
    chunks = (_chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(b"".join(rows), 1)), _chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
