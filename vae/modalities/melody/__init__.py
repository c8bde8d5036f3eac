"""Melodies: two bars of a monophonic tune as 32 sixteenth-note tokens (MusicVAE's melody encoding).

    from vae import modalities
    m = modalities.get("melody")
    ds = m.load_dataset("folk")            # every source in music21's corpus (parsed once, then cached)
    ds = m.load_dataset("abc:DIR")         # your own: one class per .abc file in DIR
    x = m.read_example(open("tune.mid", "rb").read(), spec)     # or ABC text: its 2-bar windows (n, 32)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, VAEError
from ..base import Judge, Modality
from . import attributes as attrs
from . import corpus, midi
from . import tokens as T
from .judge import NoteJudge
from .spec import DECODERS, MAX_SIZE, MelodySpec

MAX_MIDI_BYTES = 1 << 20       # an uploaded MIDI file; a melody of hours fits in far less
MAX_ABC_CHARS = 200_000        # pasted or uploaded ABC text
MAX_WINDOWS = 512              # windows of one example that are encoded
TEST_FRACTION = 0.1            # of tunes (never of windows: a tune's windows stay on one side)
DECODE_BEAM = 4                # prefixes kept by the beam search that decodes a point: free-running accuracy
                               # 0.873 greedy, 0.893 with 2, 0.901 with 4, 0.903 with 8 (BENCHMARKS.md)


class MelodyError(DataError):
    """A melody file or text that cannot be read."""


def split_tunes(n_tunes: int, fraction: float = TEST_FRACTION, seed: int = 0) -> np.ndarray:
    """(n_tunes,) bool: the tune is held out for testing (seeded)."""
    order = np.random.default_rng(seed).permutation(n_tunes)
    test = np.zeros(n_tunes, bool)
    test[order[: max(1, int(round(n_tunes * fraction)))]] = True
    return test


def cut(tune_list, labels, seed: int = 0, fraction: float = TEST_FRACTION):
    """[(pitch, onset, bar, phase)] with a label each -> windows split by tune, and counts of what was dropped."""
    test = split_tunes(len(tune_list), fraction, seed)
    parts = {False: ([], [], []), True: ([], [], [])}
    dropped = {"silent": 0, "out of range": 0}
    for i, ((pitch, onset, bar, phase), label) in enumerate(zip(tune_list, labels)):
        w, counts = T.windows_of(pitch, onset, bar, phase)
        for k, v in counts.items():
            dropped[k] += v
        xs, ys, ts = parts[bool(test[i])]
        xs.append(w), ys.append(np.full(len(w), label, np.int32)), ts.append(np.full(len(w), i, np.int32))
    out = []
    for side in (False, True):
        xs, ys, ts = parts[side]
        out += [np.concatenate(xs).astype(np.int32) if xs else np.zeros((0, T.STEPS), np.int32),
                np.concatenate(ys) if ys else np.zeros(0, np.int32), np.concatenate(ts) if ts else np.zeros(0, np.int32)]
    return out, dropped


class MelodyModality(Modality):
    """Two-bar monophonic melodies as 16th-note tokens; sequence VAE with a categorical likelihood."""

    name = "melody"
    noun = "melody"
    spec_class = MelodySpec
    datasets = ("folk", "abc:DIR")
    distance_name = "share of wrong tokens"

    # --- data ------------------------------------------------------------------------------------

    def load_dataset(self, name: str = "folk", seed: int = 0, test_fraction: float = TEST_FRACTION, **_):
        from ...data import Dataset

        if name == "folk":
            tunes = corpus.load_tunes()
            tune_list = [(*tunes.tune(i), int(tunes.bar[i]), int(tunes.phase[i])) for i in range(len(tunes))]
            labels, classes = tunes.source.astype(np.int32), [corpus.SOURCE_NAMES[s] for s in corpus.SOURCES]
            source = "music21 corpus: " + ", ".join(classes)
        elif name.startswith("abc:"):
            tune_list, labels, classes = self._abc_dir(Path(name[4:]).expanduser())
            source = name[4:]
        else:
            raise DataError(f"Unknown melody dataset {name[:60]!r}: use folk or abc:DIR (one class per .abc file).")
        (x_tr, y_tr, t_tr, x_te, y_te, t_te), dropped = cut(tune_list, labels, seed, test_fraction)
        ds = Dataset(name, x_tr, y_tr, x_te, y_te, classes, source=source, skipped=sum(dropped.values()))
        ds.tunes_train, ds.tunes_test = t_tr, t_te      # which tune each window comes from
        return ds

    @staticmethod
    def _abc_dir(folder: Path):
        files = sorted(folder.glob("*.abc")) if folder.is_dir() else []
        if len(files) < 1:
            raise DataError(f"No .abc files in {str(folder)[:80]!r}: give a folder with one .abc file per class.")
        tune_list, labels = [], []
        for k, f in enumerate(files):
            got = [r for r in corpus.parse_abc(f.read_text(errors="replace")[:MAX_ABC_CHARS * 50])
                   if not isinstance(r, str)]
            tune_list += got
            labels += [k] * len(got)
        return tune_list, np.array(labels, np.int32), [f.stem for f in files]

    def check_options(self, options: dict, latent_dim: int) -> str | None:
        for k in ("embed", "encoder_units", "decoder_units"):
            v = options.get(k)
            if v is not None and not (isinstance(v, int) and 1 <= v <= MAX_SIZE):
                return f"--{k.replace('_', '-')} must be a whole number from 1 to {MAX_SIZE}, got {v}"
        if options.get("decoder") not in (None, *DECODERS):
            return f"--decoder must be one of {', '.join(DECODERS)}, got {str(options['decoder'])[:40]}"
        return None

    def spec_for(self, dataset, options: dict) -> MelodySpec:
        keys = ("embed", "encoder_units", "decoder_units", "decoder")
        return MelodySpec(steps=int(dataset.x_train.shape[1]), vocab=T.VOCAB,
                          **{k: options[k] for k in keys if options.get(k) is not None})

    # --- networks and likelihood -----------------------------------------------------------------

    def build_encoder(self, spec, latent_dim: int, num_classes: int):
        from . import networks  # Keras: imported when a model is built, not with the package
        return networks.build_encoder(_spec(spec), latent_dim, num_classes)

    def build_decoder(self, spec, latent_dim: int, num_classes: int):
        from . import networks
        return networks.MelodyDecoder(**_spec(spec).decoder_config(latent_dim, num_classes), name="decoder")

    augmentation = "every training window transposed by a random shift in {}..+{} semitones, kept in range".format(
        *T.TRANSPOSE)

    def augment(self, x, rng):
        return T.random_transpose(x, rng).astype(x.dtype)

    def model_input(self, x):
        from keras import ops
        return ops.cast(x, "int32")

    @staticmethod
    def _z(z, onehot):
        from keras import ops
        return ops.cast(z, "float32") if onehot is None else ops.concatenate(
            [ops.cast(z, "float32"), ops.cast(onehot, "float32")], axis=-1)

    def decoder_logits(self, decoder, z, onehot=None, training: bool = False):
        """Logits (B, T, V) along the decoder's own greedy path (a sequence has no single mean to show)."""
        zc = self._z(z, onehot)
        return decoder([zc, decoder.greedy(zc)], training=training)

    def nll(self, decoder, z, x, onehot=None, training: bool = False):
        from . import networks
        return networks.token_nll(decoder([self._z(z, onehot), x], training=training), x)

    def generate(self, decoder, z, onehot=None):
        """The most likely window a beam search of DECODE_BEAM finds (a tensor: callers may run inside
        tf.function). Greedy choices let one early mistake carry on; the beam keeps DECODE_BEAM prefixes a step."""
        return decoder.beam(self._z(z, onehot), DECODE_BEAM)

    def sample(self, decoder, z, onehot=None, temperature: float = 1.0, seed=None):
        if temperature <= 0:
            return self.generate(decoder, z, onehot)
        seed = np.random.default_rng().integers(2 ** 31) if seed is None else seed
        return decoder.draw(self._z(z, onehot), float(temperature), int(seed))

    def check_examples(self, x, spec) -> np.ndarray:
        spec = _spec(spec)
        try:
            tok = T.check_tokens(x)
        except ValueError as e:
            raise VAEError(str(e)) from None
        if tok.shape[1] != spec.steps:
            raise VAEError(f"This model reads melodies of {spec.steps} steps; got {tok.shape[1]}.")
        if tok.size and tok.max() >= spec.vocab:
            raise VAEError(f"This model knows {spec.vocab} tokens; got token {tok.max()}.")
        return tok

    # --- what is measured ------------------------------------------------------------------------

    def attributes(self, x, **options) -> dict:
        return attrs.measure(x)

    def attribute_info(self, names) -> dict:
        return {n: attrs.INFO[n] for n in names if n in attrs.INFO}

    def judge(self, seed: int = 0):
        return NoteJudge(seed=seed)

    def judge_info(self, judge) -> Judge:
        return Judge(judge.description, judge.accuracy, judge.held_out)

    def distance(self, x, decoded) -> np.ndarray:
        return np.mean(np.asarray(x) != np.asarray(decoded), axis=1).astype(np.float32)

    # --- a user's own example --------------------------------------------------------------------

    def read_example(self, source, spec, name: str | None = None) -> np.ndarray:
        """MIDI bytes or ABC text -> its 2-bar windows (n, 32) int32, at most MAX_WINDOWS of them."""
        steps = _spec(spec).steps
        label = f"{name[:60]!r}" if name else "The melody"
        if hasattr(source, "read"):
            source = source.read(MAX_MIDI_BYTES + 1)
        if isinstance(source, (bytes, bytearray)) and bytes(source[:4]) == b"MThd":
            if len(source) > MAX_MIDI_BYTES:
                raise MelodyError(f"{label} is over {MAX_MIDI_BYTES >> 20} MB: give a MIDI file of one tune.")
            try:
                pitch, onset, bar = midi.read_midi(bytes(source))
            except (midi.MidiError, IndexError, ValueError) as e:
                raise MelodyError(f"{label} is not a MIDI file this explorer reads ({e}): save it again as a "
                                  "standard MIDI file.") from None
            tunes = [(pitch, onset, bar, 0)]
        else:
            text = source.decode("utf-8", errors="replace") if isinstance(source, (bytes, bytearray)) else str(source)
            if len(text) > MAX_ABC_CHARS:
                raise MelodyError(f"{label} is over {MAX_ABC_CHARS:,} characters: give one tune in ABC.")
            if "K:" not in text:
                raise MelodyError(f"{label} is neither a MIDI file nor ABC text with a K: (key) line: "
                                  "upload a .mid file or paste a tune in ABC notation.")
            try:
                tunes = [r for r in corpus.parse_abc(text) if not isinstance(r, str)]
            except Exception:  # noqa: BLE001 - music21 raises many kinds on malformed ABC; one sentence for all
                tunes = None
            if tunes is None:
                raise MelodyError(f"{label} could not be read as ABC: check the header lines (X:, M:, L:, K:).")
        windows = [T.windows_of(p, o, b, ph, steps)[0] for p, o, b, ph in tunes]
        windows = np.concatenate(windows) if windows else np.zeros((0, steps), np.int8)
        if not len(windows):
            raise MelodyError(f"{label} has no two-bar stretch this model reads: it needs a meter of 2/4, 4/4 "
                              f"or 2/2 and notes from MIDI {T.LOW} to {T.HIGH}.")
        return windows[:MAX_WINDOWS].astype(np.int32)


def _spec(spec) -> MelodySpec:
    return spec if isinstance(spec, MelodySpec) else MelodySpec(**{
        k: v for k, v in dict(spec).items() if k in MelodySpec.__dataclass_fields__})


MODALITY = MelodyModality()
