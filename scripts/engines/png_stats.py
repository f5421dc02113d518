"""Counts what a PNG screenshot shows, with the standard library only.

    python3 png_stats.py FILE.png

Prints one JSON object: width, height, pixels, distinct colours, the share
of pixels that are not near-white, and how many are coloured (far from
grey: the plots' lines and bands, not text). Reads 8-bit RGB or RGBA
non-interlaced PNGs (what Chromium writes); exits 2 on anything else.
"""
import json
import struct
import sys
import zlib


def rows(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, head = 8, [], None
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += size + 12
    width, height, depth, colour, _, _, interlace = head
    if depth != 8 or colour not in (2, 6) or interlace:
        print(f"{path}: unsupported PNG (depth {depth}, colour {colour})", file=sys.stderr)
        sys.exit(2)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        yield width, height, bpp, line
        prev = line


def main(path):
    colours, ink, coloured, n = set(), 0, 0, 0
    for width, height, bpp, line in rows(path):
        pixels = [bytes(line[i:i + 3]) for i in range(0, len(line), bpp)]
        colours.update(pixels)
        for r, g, b in pixels:
            if min(r, g, b) < 235:
                ink += 1
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
        n += len(pixels)
    print(json.dumps({"width": width, "height": height, "pixels": n,
                      "colours": len(colours), "ink_share": round(ink / n, 4),
                      "coloured": coloured}))


if __name__ == "__main__":
    main(sys.argv[1])
