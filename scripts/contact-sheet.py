#!/usr/bin/python3
"""contact-sheet.py - the main screens on one picture, for the README.

Tiles the screens the view test renders (build/screens/, `meson test -C
build view`) at 1920x1080, Chinese above English, a quarter of their size,
into docs/contact-sheet.png. Python's standard library only (zlib): it
reads the 8-bit RGB/RGBA PNGs the kiosk writes and writes an RGB PNG.

    meson test -C build view && python3 scripts/contact-sheet.py [SCREENS_DIR] [OUT]

The order is fixed (SCREENS below), left to right, two screens' pairs of
rows: the README lists it, so the sheet needs no lettering of its own.
"""

import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENS = [
    "IDLE-plain", "ENTER_OLD_PIN-plain", "ENTER_OLD_PIN-wrong_pin-1",
    "ENTER_NEW_PIN-on_initial_pin", "ENTER_NEW_PIN-pin_too_simple", "CONFIRM_NEW_PIN-plain",
    "CHANGING-plain", "SUCCESS-plain", "CARD_BLOCKED-plain",
    "CARD_BLOCKED-card_locked", "ERROR-change_unknown", "RESET_OFFER-plain",
]
SIZE = "1920x1080"
LANGS = ["zh", "en"]
COLUMNS = 6
SCALE = 4          # 1920x1080 -> 480x270
GAP = 12
BACKGROUND = (0x55, 0x5B, 0x66)


def read_png(path):
    """(width, height, rows of RGB bytes) of a non-interlaced 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, width = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError(f"{path}: only 8-bit RGB/RGBA, not interlaced")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytes(stride)
    rows = []
    lo, hi = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if f == 0:
            cur = line
        elif f == 2:
            # Bytewise addition mod 256 of the whole row at once: add the
            # low 7 bits of each byte, then put the top bits back by xor.
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            cur = (((a & lo) + (b & lo)) ^ ((a ^ b) & hi)).to_bytes(stride, "big")
        else:
            cur = bytearray(line)
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                up = prev[i]
                if f == 1:
                    pred = left
                elif f == 3:
                    pred = (left + up) >> 1
                else:  # Paeth
                    ul = prev[i - bpp] if i >= bpp else 0
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                cur[i] = (cur[i] + pred) & 0xFF
            cur = bytes(cur)
        rows.append(cur)
        prev = cur
    if bpp == 4:  # the screens are opaque: drop alpha
        rows = [bytes(b for i, b in enumerate(r) if i % 4 != 3) for r in rows]
    return width, height, rows


def shrink(width, height, rows, k):
    """Each k x k block becomes the mean of four of its pixels."""
    out = []
    h = k // 2
    for y in range(0, height - k + 1, k):
        r0, r1 = rows[y], rows[y + h]
        line = bytearray()
        for x in range(0, width - k + 1, k):
            a, b = 3 * x, 3 * (x + h)
            for c in range(3):
                line.append((r0[a + c] + r0[b + c] + r1[a + c] + r1[b + c] + 2) >> 2)
        out.append(bytes(line))
    return out


def write_png(path, width, height, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + r for r in rows)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    screens = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "screens"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "contact-sheet.png"
    tw, th = 1920 // SCALE, 1080 // SCALE
    groups = (len(SCREENS) + COLUMNS - 1) // COLUMNS
    width = COLUMNS * tw + (COLUMNS + 1) * GAP
    height = groups * len(LANGS) * th + (groups * len(LANGS) + 1) * GAP + (groups - 1) * GAP
    bg = bytes(BACKGROUND)
    sheet = [bytearray(bg * width) for _ in range(height)]
    for i, name in enumerate(SCREENS):
        for li, lang in enumerate(LANGS):
            path = screens / f"{SIZE}-{lang}-{name}.png"
            w, h, rows = read_png(path)
            tile = shrink(w, h, rows, SCALE)
            col, group = i % COLUMNS, i // COLUMNS
            x0 = GAP + col * (tw + GAP)
            y0 = GAP + (group * len(LANGS) + li) * (th + GAP) + group * GAP
            for y, r in enumerate(tile[:th]):
                sheet[y0 + y][3 * x0:3 * (x0 + tw)] = r[:3 * tw]
            print(f"{path.name}", file=sys.stderr)
    write_png(out, width, height, [bytes(r) for r in sheet])
    print(f"wrote {out} ({width}x{height})", file=sys.stderr)


if __name__ == "__main__":
    main()
