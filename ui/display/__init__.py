"""The display side of the modality seam: how one kind of data is shown, played and downloaded.

    from ui import display
    show = display.for_bundle(loaded)            # the module for the bundle's meta.json "modality"
    st.html(show.tag(x, 150, alt="original"))    # one example as HTML

A display module (ui/display/NAME.py, registered below) defines:
  NOUN: str                                       # one example in words: "image", "melody", "sentence"
  CSS: str                                        # styles its HTML needs (added once per page)
  tag(x, width, alt="", cls="", **data) -> str    # one example (decoded or natural form) as HTML
  row(xs, captions, width, cls="") -> str         # several, captioned (neighbours)
  strip(frames, width, alt="", cls="") -> str     # a sequence (interpolation, traversal) as one HTML piece
  animation(frames, width) -> str                 # the same sequence played (may be "")
  pad_preview(x) -> dict                          # the latent pad's live view: {"image": data-URI PNG or "",
                                                  #   "text": str or "", "audio": data-URI WAV or ""}
  downloads(x, stem) -> list[(label, data bytes or zero-arg callable, file_name, mime)]
  strip_downloads(frames, stem) -> list[...]      # the same for a sequence
  sheet(xs, cols, gap=0) -> picture               # optional: examples that tile into one picture (the grid
  sheet_uri(picture) -> str                       #   tool, the gallery), as a data URI and as downloads;
  sheet_downloads(picture, stem) -> list[...]     #   without `sheet` those say they need pictures
  describe(bundle) -> str                         # what the examples are, in words ("image 28×28×1")
  own_example_help(bundle) -> str                 # the "your own example" tab's one-line help
  own_example_input(key, noun, **widget) -> (source, name) | None   # the "your own example" widget
  own_example_options(columns, data_options, on_change)             # its reading options (may draw none)
  example_value(value) -> (source, name) | None   # that widget's session value, read from a callback
  example_given(read, key, kind) -> ...           # optional, for more than one input: read(key) gives a widget's
                                                  #   value, kind says which input changed (its on_change args)
  own_example_read_options() -> dict              # keyword arguments for Modality.read_example (which reads it)
  own_example_adjust(x, data_options, new) -> x   # the example as read -> as encoded (may return x)
  own_example_preview(source, name, bundle) -> str  # what was given, as HTML; raises a one-sentence VAEError
  SAMPLES, SAMPLE_TEMPERATURE                     # optional: show a decoding with this many draws from p(x|z)
                                                  #   (tag/pad_preview/downloads then get (1 + SAMPLES, ...))
No other ui/ module knows what the data are.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from vae.errors import VAEError

REGISTRY = {  # modality name -> its display module, imported on first use
    "image": "ui.display.image",
    "melody": "ui.display.melody",
    "text": "ui.display.text",
}
DEFAULT = "image"


def get(name: str | None = None) -> ModuleType:
    """The display module for modality `name` (None: image); one clear sentence for an unknown name."""
    name = DEFAULT if name is None else name
    if not isinstance(name, str) or name not in REGISTRY:
        raise VAEError(f"This explorer cannot show {str(name)[:40]!r} data (it shows {', '.join(REGISTRY)}): "
                       "update the explorer or choose another bundle.")
    return importlib.import_module(REGISTRY[name])


def for_bundle(loaded) -> ModuleType:
    """The display module of a loaded bundle (or of a bundle): its modality's (meta.json "modality"; none: image)."""
    bundle = getattr(loaded, "bundle", loaded)
    modality = getattr(bundle, "modality", None)
    return get(getattr(modality, "name", None) or (getattr(bundle, "meta", None) or {}).get("modality"))


def decodings(bundle, z, labels=None, lower=None):
    """Latent points (B, d) decoded as the display shows a point: Bundle.decode, or, when its module asks for
    SAMPLES, each decoding followed by that many seeded draws from the decoder (vae.generate.readings).
    `lower`: a hierarchical bundle's details (Bundle.decode's), for the decoding (draws use the most likely)."""
    show = for_bundle(bundle)
    samples = int(getattr(show, "SAMPLES", 0))
    if not samples:
        return bundle.decode(z, labels) if lower is None else bundle.decode(z, labels, lower=lower)
    from vae.generate import readings

    return readings(bundle, z, labels, samples, float(getattr(show, "SAMPLE_TEMPERATURE", 1.0)), lower=lower)


def register(name: str, module: str) -> None:
    """Register a display module defined outside this package (e.g. a test's fake one)."""
    REGISTRY[name] = module
