"""ui/display: the registry of display modules and the image module's side of the contract."""
from __future__ import annotations

import io
import types

import numpy as np
import pytest
from PIL import Image

from ui import display
from ui.display import image
from vae.errors import VAEError


def _bundle(meta):
    return types.SimpleNamespace(bundle=types.SimpleNamespace(meta=meta))


def test_the_registry_finds_the_bundle_s_display_and_names_an_unknown_one_in_a_sentence():
    assert display.get() is image and display.for_bundle(_bundle({})) is image  # no modality: images
    assert display.for_bundle(_bundle({"modality": "image"})) is image
    with pytest.raises(VAEError) as err:
        display.for_bundle(_bundle({"modality": "<script>smell"}))
    message = str(err.value)
    assert "cannot show '<script>smell' data" in message and message.count(".") == 1 and message.endswith(".")


def test_every_registered_display_module_has_the_whole_contract():
    for name in display.REGISTRY:
        mod = display.get(name)
        for attr in ("NOUN", "CSS", "tag", "row", "strip", "animation", "pad_preview", "downloads", "strip_downloads", "describe",
                     "own_example_input", "example_value", "own_example_help", "own_example_options",
                     "own_example_read_options", "own_example_adjust", "own_example_preview"):
            assert hasattr(mod, attr), (name, attr)


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_the_image_module_previews_shows_and_downloads_what_it_is_given():
    x = np.zeros((4, 6, 1), np.float32)
    x[1, 2] = 1.0
    preview = image.pad_preview(x)
    assert preview["text"] == preview["audio"] == "" and preview["image"].startswith("data:image/png;base64,")
    html = image.tag(x, 60, alt='a "quoted" <alt>', row=3)
    assert 'height="40"' in html and 'data-row="3"' in html and "&lt;alt&gt;" in html and "<alt>" not in html
    (label, data, name, mime), = image.downloads(x, "decoded")
    assert (name, mime) == ("decoded.png", "image/png") and _png(data()).shape == (32, 48)  # 8x, on click
    frames = np.stack([x, 1 - x, x])
    files = {name: data() for _, data, name, _ in image.strip_downloads(frames, "walk")}
    assert _png(files["walk.png"]).shape == (4 * 4, (3 * 6 + 2) * 4) and files["walk.gif"][:6] == b"GIF89a"
    sheet = image.sheet([x, None, 1 - x], cols=2, gap=1)  # None: an empty (white) cell
    assert sheet.shape == (9, 13, 1) and (sheet[:4, 7:] == 255).all() and sheet[6, 2, 0] == 0
    assert image.describe(types.SimpleNamespace(image_shape=(28, 28, 1))) == "image 28×28×1"
