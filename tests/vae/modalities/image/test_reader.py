"""vae/modalities/image/reader.py: every picture Pillow opens, damaged ones, huge ones, 16-bit ones, thin ones, wide ones."""
import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image, features

from vae.data import load_dataset
from vae.errors import ImageError
from vae.modalities.image.reader import MAX_DECODED_BYTES, _reduce, read_image, read_upload

SIZE = (12, 12)


def _encode(fmt: str) -> bytes | None:
    """A small picture saved in `fmt`, in the first mode that format writes; None if it writes none of them."""
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (10, 14, 3), dtype=np.uint8))
    for mode in ("RGB", "L", "P", "1", "RGBA", "I;16", "F"):
        buf = io.BytesIO()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                base.convert(mode).save(buf, fmt)
        except Exception:  # noqa: BLE001  a format that refuses this mode (or needs a plugin): try the next
            continue
        return buf.getvalue()
    return None


Image.init()  # registers every plugin, so Image.SAVE lists every format Pillow writes
WRITABLE = sorted(f for f in Image.SAVE if f not in ("PDF", "PALM", "XV_THUMB", "MPEG"))
CORPUS = {fmt: raw for fmt in WRITABLE if (raw := _encode(fmt))}


def _dds(fourcc: bytes = b"XXXX", flags: int = 0x4) -> bytes:
    """A DDS header Pillow recognises but whose pixel format it does not implement (NotImplementedError)."""
    head = struct.pack("<7I", 124, 0x1007, 4, 4, 0, 0, 0) + b"\0" * 44
    pixel_format = struct.pack("<2I", 32, flags) + fourcc + struct.pack("<5I", 0, 0xFF0000, 0xFF00, 0xFF, 0xFF000000)
    return b"DDS " + head + pixel_format + struct.pack("<5I", 0x1000, 0, 0, 0, 0) + b"\0" * 64


def _tiff_bytes_offsets() -> bytes:
    """A TIFF whose StripOffsets tag has type UNDEFINED: Pillow raised TypeError from the upload panel."""
    buf = io.BytesIO()
    Image.new("L", (4, 4), 7).save(buf, "TIFF")
    raw = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", raw[4:8])[0]
    for i in range(struct.unpack("<H", raw[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", raw[entry:entry + 2])[0] == 273:
            raw[entry + 2:entry + 4] = struct.pack("<H", 7)
    return bytes(raw)


def _png_header(width: int, height: int, colour_type: int = 3) -> bytes:
    """A PNG that declares width x height in its header and holds almost nothing."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    plte = chunk(b"PLTE", b"\0\0\0\xff\xff\xff") if colour_type == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + plte + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _either_image_or_sentence(raw: bytes, channels: int = 1) -> None:
    try:
        x = read_image(raw, SIZE, channels, name="f.bin")
    except ImageError as exc:  # the one error a damaged picture may cause: one sentence naming it
        assert "f.bin" in str(exc) and str(exc).endswith(".") and "BytesIO" not in str(exc)
        return
    assert x.shape == (*SIZE, channels) and x.dtype == np.uint8


def test_the_corpus_covers_the_formats_pillow_writes():
    assert {"PNG", "JPEG", "GIF", "BMP", "TIFF", "DDS", "WEBP" if features.check("webp") else "PNG"} <= set(CORPUS)
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("fmt", sorted(CORPUS))
def test_every_format_reads_whole_and_fails_cleanly_damaged(fmt):
    raw = CORPUS[fmt]
    _either_image_or_sentence(raw)
    _either_image_or_sentence(raw, channels=3)
    rng = np.random.default_rng(len(raw))
    for cut in sorted({1, 8, 16, 32, len(raw) // 4, len(raw) // 2, len(raw) - 1}):
        _either_image_or_sentence(raw[:cut])  # truncated
    for _ in range(20):  # a few bytes overwritten, in the header and in the data
        broken = bytearray(raw)
        for i in rng.integers(0, len(raw), 3):
            broken[i] = int(rng.integers(0, 256))
        _either_image_or_sentence(bytes(broken))


@pytest.mark.parametrize("raw, words", [(_dds(), "header is damaged"), (_dds(b"DX10"), "header is damaged"),
                                        (_dds(b"\0\0\0\0", 0x2), "header is damaged"),
                                        (_tiff_bytes_offsets(), "damaged or incomplete"),
                                        (b"hello, this is text", "not a picture")])
def test_hand_made_malformed_headers_are_one_sentence(raw, words):
    with pytest.raises(ImageError, match=words):
        read_upload(raw, SIZE, 1, name="x.dds")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(sorted(CORPUS)), data=st.data())
def test_fuzzed_pictures_give_an_image_or_one_sentence(fmt, data):
    raw = bytearray(CORPUS[fmt])
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    raw = raw[:data.draw(st.integers(1, len(raw)))]
    _either_image_or_sentence(bytes(raw))


def test_eps_is_refused_not_handed_to_ghostscript():
    with pytest.raises(ImageError, match="not a picture in a format this app reads"):
        read_upload(CORPUS["EPS"], SIZE, 1, name="x.eps")


def test_a_picture_too_large_to_decode_is_refused_from_its_header():
    raw = _png_header(12000, 12000, colour_type=2)  # RGB: 576 MB decoded, a file of a few bytes
    with pytest.raises(ImageError, match=r"12000x12000 pixels, 549 MB decoded.*shrink it"):
        read_upload(raw, SIZE, 1, name="big.png")
    with pytest.raises(ImageError, match=r"over 179 megapixels: shrink it"):  # past Pillow's own limit
        read_upload(_png_header(30000, 30000), SIZE, 1, name="bigger.png")
    assert 6300 * 6300 <= MAX_DECODED_BYTES  # the 39.7-megapixel palette PNG itself is accepted


def test_a_large_palette_picture_is_reduced_in_strips_exactly_as_a_whole():
    img = Image.new("P", (1500, 1100), 0)
    img.putpalette([0, 0, 0, 255, 255, 255, 200, 30, 30] + [0] * 759)
    img.paste(1, (300, 200, 1200, 900))
    img.paste(2, (0, 0, 40, 1100))
    small = _reduce(img, 64)
    whole = img.convert("RGB").reduce(small.size[0] and round(1500 / small.size[0]))
    assert small.size == whole.size and small.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(small), np.asarray(whole))


def test_16_bit_greyscale_is_scaled_by_range_not_binarised(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    assert Image.open(tmp_path / "ramp.png").mode == "I;16"
    x = read_image(tmp_path / "ramp.png", (16, 16), 1)[..., 0]
    assert len(np.unique(x)) >= 14 and x.min() < 20 and x.max() > 235  # was: 0 and 255 only
    assert np.all(np.diff(x.astype(int), axis=0) >= 0)  # still a ramp, top to bottom
    floats = Image.fromarray(np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16))
    floats.save(tmp_path / "f.tiff")
    assert read_image(tmp_path / "f.tiff", (16, 16), 1).max() == 255


def test_a_5000_by_1_picture_gets_a_preview_and_an_image():
    buf = io.BytesIO()
    Image.new("L", (5000, 1), 180).save(buf, "PNG")
    for fit in ("pad", "crop"):
        x, preview = read_upload(buf.getvalue(), (28, 28), 1, fit=fit)
        assert x.shape == (28, 28, 1) and preview.shape[0] >= 1 and preview.shape[1] == 256
    assert read_upload(buf.getvalue(), (28, 28), 1, fit="pad")[0][14, 14, 0] == 180


def test_a_wide_picture_is_padded_with_its_background_or_centre_cropped():
    wide = np.full((20, 60), 255, np.uint8)  # white background, a black square at each end
    wide[5:15, 2:12] = 0
    wide[5:15, 48:58] = 0
    buf = io.BytesIO()
    Image.fromarray(wide).save(buf, "PNG")
    padded, _ = read_upload(buf.getvalue(), (30, 30), 1, fit="pad")
    cropped, _ = read_upload(buf.getvalue(), (30, 30), 1, fit="crop")
    assert padded[:, :5].min() < 60 and padded[:, -5:].min() < 60  # both ends kept
    assert padded[0].min() == 255 and padded[-1].min() == 255  # the padding is the white background
    assert cropped.min() > 200  # the centre of the picture holds neither square


def test_exif_orientation_is_applied():
    img = np.zeros((10, 20), np.uint8)
    img[:, :10] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", exif=exif, quality=95)
    x = read_image(buf.getvalue(), (20, 20), 1, fit="pad")[..., 0]
    assert x[2:8, 5:15].mean() > 200 and x[12:18, 5:15].mean() < 60  # the white half is now on top


def test_folder_training_skips_and_counts_every_kind_of_damaged_file(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (9, 9), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "a" / "bad.dds").write_bytes(_dds())  # NotImplementedError in Pillow
    (tmp_path / "a" / "bad.tiff").write_bytes(_tiff_bytes_offsets())  # TypeError in Pillow
    (tmp_path / "b" / "huge.png").write_bytes(_png_header(12000, 12000, colour_type=2))
    wide = np.zeros((2, 4), np.uint16)
    wide[:, 2:] = 60000
    Image.fromarray(wide).save(tmp_path / "b" / "deep.png")  # 16-bit
    ds = load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)
    assert ds.skipped == 3 and len(ds.x_train) + len(ds.x_test) == 7


def test_large_pictures_take_turns_so_concurrent_uploads_stay_bounded(monkeypatch):
    import threading
    import time

    from vae.modalities.image import reader as image_input

    active, most, lock = [0], [0], threading.Lock()
    real = image_input.working_image

    def counting(im, size):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)  # hold the decode so the threads overlap
        try:
            return real(im, size)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(image_input, "working_image", counting)
    buf = io.BytesIO()
    Image.new("L", (2500, 2000), 3).save(buf, "PNG")  # 5 MB decoded: a large picture
    threads = [threading.Thread(target=read_upload, args=(buf.getvalue(), SIZE, 1)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == image_input.LARGE_DECODES_AT_ONCE
