"""TextModality: short sentences as character ids, modelled by a GRU sentence VAE."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, VAEError
from .. import base
from . import attributes as attrs
from . import corpus, tokenizer
from .spec import TextDataOptions, TextSpec

MAX_INPUT_CHARS = 10_000   # what read_example looks at before saying a text is too long


class TextInputError(VAEError):
    """A user's sentence that cannot be encoded."""


class TextModality(base.Modality):
    """Short sentences (Debian fortunes) as int32 character ids (N, T), END-marked and zero-padded."""

    name = "text"
    noun = "sentence"
    spec_class = TextSpec
    datasets = ("fortunes", "text:PATH")
    distance_name = "share of wrong characters"
    data_options_class = TextDataOptions

    # --- data ------------------------------------------------------------------------------------

    def load_dataset(self, name: str = "fortunes", max_chars: int = 120, min_class: int = 40,
                     test_fraction: float = 0.15, seed: int = 0, **_):
        """fortunes (Debian's collections) or text:PATH (a folder of fortune-format files)."""
        from ...data import Dataset

        if name == "fortunes":
            folder = corpus.FORTUNES_DIR
        elif isinstance(name, str) and name.startswith("text:"):
            folder = Path(name[5:]).expanduser()
        else:
            raise DataError(f"Unknown text dataset {str(name)[:60]!r}: use fortunes or text:PATH.")
        c = corpus.read_corpus(folder, int(max_chars), int(min_class))
        train, test = corpus.split(c.labels, test_fraction, seed)
        ids = tokenizer.encode(c.texts, int(max_chars) + 1)
        ds = Dataset(name, ids[train], c.labels[train], ids[test], c.labels[test], list(c.class_names),
                     source=str(folder), skipped=c.too_long + c.out_of_alphabet + c.empty)
        ds.corpus_counts = {"entries": c.entries, "kept": len(c.texts), "too_long": c.too_long,
                            "out_of_alphabet": c.out_of_alphabet, "duplicates": c.duplicates, "empty": c.empty}
        return ds

    def data_options(self, options: dict) -> dict:
        return {k: options[k] for k in ("max_chars", "min_class", "test_fraction", "seed")
                if options.get(k) is not None}

    def check_options(self, options: dict, latent_dim: int) -> str | None:
        ints = {k: options[k] for k in ("max_chars", "min_class", "embed_dim", "encoder_units", "decoder_units")
                if options.get(k) is not None}
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints.values()):
            return "--max-chars, --min-class and the network widths must be whole numbers"
        if not 1 <= ints.get("max_chars", 120) <= 1000:
            return f"--max-chars must be between 1 and 1000, got {ints['max_chars']}"
        for k in ("embed_dim", "encoder_units", "decoder_units"):
            if not 2 <= ints.get(k, 64) <= 2048:
                return f"--{k.replace('_', '-')} must be between 2 and 2048, got {ints[k]}"
        dropout = options.get("token_dropout", 0.0)
        if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
            return f"--token-dropout must be at least 0 and below 1, got {dropout}"
        return None

    def spec_for(self, dataset, options: dict) -> TextSpec:
        keys = ("embed_dim", "encoder_units", "decoder_units", "token_dropout")
        return TextSpec(length=int(dataset.x_train.shape[1]),
                        **{k: options[k] for k in keys if options.get(k) is not None})

    # --- networks and likelihood -----------------------------------------------------------------

    def build_encoder(self, spec, latent_dim: int, num_classes: int = 0):
        from . import networks
        return networks.build_encoder(_spec(spec), latent_dim, num_classes)

    def build_decoder(self, spec, latent_dim: int, num_classes: int = 0):
        from . import networks
        return networks.build_decoder(_spec(spec), latent_dim, num_classes)

    def model_input(self, x):
        from keras import ops
        return ops.cast(x, "int32")

    def nll(self, decoder, z, x, onehot=None, training: bool = False):
        from . import networks
        return networks.nll(decoder, z, x, onehot, training)

    def token_count(self, x) -> np.ndarray:
        """Tokens each sentence scores (characters + END), (N,): per-token NLL and perplexity divide by it."""
        return tokenizer.lengths(np.asarray(x))

    def generate(self, decoder, z, onehot=None):
        """Greedy ids (B, T) as a tensor: the bundle traces this inside its own tf.function."""
        from . import networks
        return networks.decode_ids(decoder, z, onehot)

    def sample(self, decoder, z, onehot=None, temperature: float = 1.0, seed=None):
        from . import networks
        return networks.decode_ids(decoder, z, onehot, temperature, seed)

    def check_examples(self, x, spec) -> np.ndarray:
        spec = _spec(spec)
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != spec.length or not np.issubdtype(x.dtype, np.integer):
            raise VAEError(f"Sentences must be an integer array (N, {spec.length}) of character ids, "
                           f"got {x.dtype} {x.shape}.")
        if x.size and (x.min() < 0 or x.max() >= tokenizer.VOCAB_SIZE):
            raise VAEError(f"Character ids must lie in 0..{tokenizer.VOCAB_SIZE - 1}: encode the text with "
                           "vae.modalities.text.tokenizer.encode.")
        return x.astype(np.int32)

    # --- what is measured ------------------------------------------------------------------------

    def attributes(self, x, **options) -> dict:
        return attrs.measure(x)

    def attribute_info(self, names) -> dict:
        return {n: attrs.INFO.get(n, {"unit": "", "description": ""}) for n in names}

    def judge(self, seed: int = 0):
        from .judge import TextJudge
        return TextJudge(seed=seed)

    def distance(self, x, decoded) -> np.ndarray:
        """Share of the original's scored tokens (characters + END) that the decoding gets wrong, (N,)."""
        x, decoded = np.asarray(x), np.asarray(decoded)
        n = tokenizer.lengths(x)
        scored = np.arange(x.shape[1])[None, :] < n[:, None]
        return ((x != decoded) & scored).sum(axis=1) / n

    # --- a user's own example --------------------------------------------------------------------

    def read_example(self, source, spec, name: str | None = None) -> np.ndarray:
        """A typed sentence -> (1, T) ids; one sentence for empty, over-long or unspellable input."""
        spec = _spec(spec)
        if isinstance(source, bytes):
            source = source[:4 * MAX_INPUT_CHARS].decode("utf-8", errors="replace")
        if not isinstance(source, str):
            raise TextInputError("Type a sentence: the text model reads text, not a file.")
        text = corpus.normalise(source[:MAX_INPUT_CHARS])
        if not text:
            raise TextInputError("The sentence is empty: type a few words.")
        if len(text) > spec.max_chars:
            raise TextInputError(f"The sentence has {len(text):,}{'+' if len(source) > MAX_INPUT_CHARS else ''} "
                                 f"characters; this model reads at most {spec.max_chars}: shorten it.")
        bad = tokenizer.outside_alphabet(text)
        if bad:
            shown = ", ".join(repr(c) for c in bad[:5]) + (" ..." if len(bad) > 5 else "")
            raise TextInputError(f"The model knows only plain ASCII characters; replace {shown} and try again.")
        return tokenizer.encode([text], spec.length)


def _spec(spec) -> TextSpec:
    if isinstance(spec, TextSpec):
        return spec
    if isinstance(spec, dict):
        return TextSpec(**{k: v for k, v in spec.items() if k in TextSpec.__dataclass_fields__})
    raise VAEError(f"A text model needs a TextSpec, got {type(spec).__name__}.")
