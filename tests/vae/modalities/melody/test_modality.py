"""The melody modality's contract: datasets, networks through the seam, reading a user's melody, display."""
import io
import wave

import keras
import numpy as np
import pytest

from vae import modalities
from vae.errors import VAEError
from vae.modalities.melody import MAX_MIDI_BYTES, midi
from vae.modalities.melody import tokens as T

REEL = """X:1
T:Reel
M:C|
L:1/8
K:D
FAAB AFED | FAAB A2 FA | BEEF EFAF | BEEF E2 FE |
FAAB AFED | FAAB A2 FA | dfed cdef | d2 fd d2 z2 |]
"""
CHORALE = """X:1
T:Hymn
M:4/4
L:1/4
K:F
F G A F | c B A2 | A G F G | A3 z | c d c B | A G F2 |]
"""
WALTZ = "X:9\nT:Waltz\nM:3/4\nL:1/4\nK:C\nC E G | c2 z |]\n"


@pytest.fixture(scope="module")
def melody():
    return modalities.get("melody")


@pytest.fixture(scope="module")
def abc_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("abc")
    (d / "reels.abc").write_text("\n".join(REEL.replace("X:1", f"X:{i}").replace("K:D", k)
                                           for i, k in enumerate(["K:D", "K:G", "K:A", "K:E"], 1)))
    (d / "hymns.abc").write_text("\n".join(CHORALE.replace("X:1", f"X:{i}").replace("K:F", k)
                                           for i, k in enumerate(["K:F", "K:C", "K:Bb", "K:G"], 1)) + "\n" + WALTZ)
    return d


def test_registered_by_name(melody):
    assert melody.name == "melody" and melody.noun == "melody"
    assert "melody" in modalities.names()


def test_abc_folder_dataset_splits_by_tune(melody, abc_dir):
    ds = melody.load_dataset(f"abc:{abc_dir}", test_fraction=0.25)
    assert ds.class_names == ["hymns", "reels"]
    assert ds.x_train.dtype == np.int32 and ds.x_train.shape[1] == T.STEPS
    assert set(ds.tunes_train).isdisjoint(ds.tunes_test)          # no tune on both sides
    # windows start on bar lines and end by the last note: 4 reels of 8 bars (a closing rest) give 6 each,
    # 4 hymns of 6 bars 5 each, the waltz none
    assert len(ds.x_train) + len(ds.x_test) == 4 * 6 + 4 * 5
    assert ds.skipped == 0
    with pytest.raises(VAEError, match="Unknown melody dataset"):
        melody.load_dataset("mnist")


def test_spec_networks_and_likelihood(melody, abc_dir):
    ds = melody.load_dataset(f"abc:{abc_dir}")
    spec = melody.spec_for(ds, {"embed": 8, "encoder_units": 8, "decoder_units": 16})
    enc, dec = melody.build_encoder(spec, 4, 2), melody.build_decoder(spec, 4, 2)
    x = melody.model_input(ds.x_train[:3])
    onehot = keras.ops.convert_to_tensor(np.eye(2, dtype="float32")[ds.y_train[:3]])
    mean, logvar = enc([x, onehot])
    assert mean.shape == (3, 4) and logvar.shape == (3, 4)
    nll = np.asarray(melody.nll(dec, mean, x, onehot))
    assert nll.shape == (3,) and np.all(nll > 0)
    # an untrained decoder is close to uniform: about T * log V nats
    np.testing.assert_allclose(nll, T.STEPS * np.log(T.VOCAB), rtol=0.1)
    out = np.asarray(melody.generate(dec, mean, onehot))
    assert out.shape == (3, T.STEPS) and out.dtype == np.int32
    s1, s2 = (np.asarray(melody.sample(dec, mean, onehot, temperature=1.0, seed=5)) for _ in range(2))
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(melody.sample(dec, mean, onehot, temperature=0), out)


def test_check_examples(melody):
    spec = melody.spec_class()
    ok = melody.check_examples(np.zeros((2, 32), np.int8), spec)
    assert ok.dtype == np.int32
    with pytest.raises(VAEError, match="32 steps"):
        melody.check_examples(np.zeros((2, 16), np.int32), spec)
    with pytest.raises(VAEError, match="tokens must lie"):
        melody.check_examples(np.full((1, 32), T.VOCAB), spec)
    with pytest.raises(VAEError, match="integer token arrays"):
        melody.check_examples(np.zeros((1, 32), np.float32), spec)


def test_attributes_judge_and_distance(melody):
    x = np.array([[T.note_on(60)] + [T.HOLD] * 31, [T.REST] * 32])
    a = melody.attributes(x)
    assert a["rest_share"].tolist() == [0.0, 1.0]
    assert set(melody.attribute_info(["rest_share", "nonsense"])) == {"rest_share"}
    assert melody.distance(x, x[::-1]).tolist() == [1.0, 1.0]
    assert melody.distance(x, x).tolist() == [0.0, 0.0]
    assert hasattr(melody.judge(0), "fit")


def test_read_example_from_abc_and_midi(melody):
    spec = melody.spec_class()
    windows = melody.read_example(REEL, spec)
    assert windows.shape == (6, 32) and windows.dtype == np.int32       # 8 bars of C|, the last ends in a rest
    assert windows[0, 0] == T.note_on(66)                               # F#
    data = midi.midi_bytes(windows[0])
    np.testing.assert_array_equal(melody.read_example(io.BytesIO(data), spec, name="tune.mid"), windows[:1])
    np.testing.assert_array_equal(melody.read_example(data, spec), windows[:1])


@pytest.mark.parametrize("source, words", [
    (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "holds no notes"),
    (b"MThd" + b"\x00" * (MAX_MIDI_BYTES + 10), "over 1 MB"),
    ("just some words", "neither a MIDI file nor ABC"),
    (WALTZ, "no two-bar stretch"),
    ("X:1\nK:C\n" + "C" * 300_000, "over 200,000 characters"),
])
def test_bad_melodies_get_one_sentence(melody, source, words):
    with pytest.raises(VAEError, match=words) as err:
        melody.read_example(source, melody.spec_class(), name="<b>x</b>")
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_display_module_contract():
    from ui.display import melody as show
    x = np.array([T.note_on(67)] + [T.HOLD] * 7 + [T.note_on(69)] + [T.HOLD] * 23)
    html = show.tag(x, 200, alt="<script>", cls="decoded", index=3)
    assert "<img" in html and "<audio" in html and "data:audio/wav;base64," in html
    assert "&lt;script&gt;" in html and 'data-index="3"' in html
    assert show.row([x, x], ["a · b", "<i>c</i>"], 120).count("<audio") == 2
    strip = show.strip(np.stack([x, x, x]), 120)
    assert strip.count("<img") == 1 and strip.count("<audio") == 1
    pad = show.pad_preview(x)
    assert pad["image"].startswith("data:image/png;base64,") and pad["audio"].startswith("data:audio/wav")
    assert pad["text"] == ""
    files = {name: (data() if callable(data) else data) for _, data, name, _ in show.downloads(x, "m")}
    assert files["m.mid"][:4] == b"MThd" and files["m.png"][:4] == b"\x89PNG"
    with wave.open(io.BytesIO(files["m.wav"])) as w:
        assert w.getnframes() == 4 * w.getframerate()
    medley = {name: (data() if callable(data) else data) for _, data, name, _ in show.strip_downloads(np.stack([x, x]), "s")}
    assert medley["s.gif"][:3] == b"GIF"
    p, o, _ = midi.read_midi(medley["s.mid"])
    assert len(p) == 64 and o.sum() == 4                                 # two windows, two notes each
