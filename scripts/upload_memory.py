"""Peak memory an upload adds to the server: one picture, then N at once (threads, as Streamlit sessions are).

    python scripts/upload_memory.py                       # the 39.7-megapixel palette PNG, 1 and 20 at once
    python scripts/upload_memory.py --concurrent 5 --side 4000

Each measurement runs in a fresh process: peak resident memory (ru_maxrss) after the uploads minus the
peak before them, with the libraries loaded and one small picture read first. "before" repeats it with
the reading of earlier versions (whole-image decode, RGBA conversion, centre-crop resize) side by side.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path


SIZE = (28, 28)


def make_palette_png(path: Path, side: int) -> int:
    """A side x side 'P' PNG, mostly one colour with a few shapes (6300: 39.7 megapixels, about 52 KB)."""
    from PIL import Image, ImageDraw

    img = Image.new("P", (side, side), 0)
    img.putpalette([255, 255, 255, 20, 20, 20, 200, 40, 40] + [0] * 759)
    draw = ImageDraw.Draw(img)
    draw.ellipse((side // 4, side // 4, 3 * side // 4, 3 * side // 4), fill=1)
    draw.rectangle((side // 3, side // 3, side // 2, 2 * side // 3), fill=2)
    img.save(path, optimize=True)
    return path.stat().st_size


def read_before(raw: bytes):
    """How uploads were read before vae.image_input: full decode, RGBA copy, alpha composite, crop-resize."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(raw)) as im:
        im.load()
        preview = im.copy()
        preview.thumbnail((256, 256))
        img = ImageOps.exif_transpose(im).convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img).convert("L")
        return np.asarray(ImageOps.fit(img, SIZE, Image.Resampling.LANCZOS)), preview


def child(path: str, n: int, how: str) -> dict:
    import numpy as np  # noqa: F401  loaded before the baseline
    from PIL import Image

    from vae.modalities.image.reader import read_upload

    read = (lambda raw: read_upload(raw, SIZE, 1)) if how == "now" else read_before
    small = io.BytesIO()
    Image.new("L", (300, 200), 9).save(small, "PNG")
    read(small.getvalue())  # warm: every code path and allocator arena once
    raw = Path(path).read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    go = threading.Barrier(n)

    def one():
        go.wait()
        read(raw)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"uploads": n, "how": how, "baseline_mb": round(base, 1), "peak_mb": round(peak, 1),
            "added_mb": round(peak - base, 1), "added_per_upload_mb": round((peak - base) / n, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--side", type=int, default=6300)
    p.add_argument("--concurrent", type=int, default=20)
    p.add_argument("--child", nargs=3, metavar=("PATH", "N", "HOW"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.child[2])))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "palette.png"
        size = make_palette_png(png, args.side)
        print(f"{png.name}: {args.side}x{args.side} 'P', {args.side ** 2 / 1e6:.1f} megapixels, {size / 1024:.0f} KB; "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        for how in ("now", "before"):
            for n in (1, args.concurrent):
                out = subprocess.run([sys.executable, __file__, "--child", str(png), str(n), how],
                                     capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                if out.returncode != 0:
                    print(f"{how} x{n}: failed: {out.stderr.strip().splitlines()[-1]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{how:6s} {n:3d} at once: +{r['added_mb']:7.1f} MB ({r['added_per_upload_mb']:.1f} MB per upload), "
                      f"peak {r['peak_mb']:.0f} MB over a {r['baseline_mb']:.0f} MB process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
