"""Melody data: ABC parsing to 16th-note tokens, windows, transposition, and the MIDI, WAV and PNG writers."""
import io
import wave

import numpy as np
import pytest
from PIL import Image

from vae.modalities.melody import attributes, corpus, midi, pianoroll
from vae.modalities.melody import tokens as T
from vae.modalities.melody.audio import RATE, wav_bytes

SCALE = """X:1
T:Scale
M:4/4
L:1/8
K:C
C2 D2 E2 F2 | G4 z4 | c8 |]
"""
PICKUP = """X:2
T:Pickup, tie, chord, chord symbol and triplet
M:2/4
L:1/8
K:G
D | G2 A2- | A2 "Am"[CEB]2 | (3ABc d2 | g4 | e2 d2 | B4 |]
"""


def on(midi):
    return int(T.note_on(midi))


def test_scale_gives_known_tokens():
    pitch, onset, bar, phase = corpus.parse_abc(SCALE)[0]
    assert (bar, phase) == (16, 0)
    windows, counts = T.windows_of(pitch, onset, bar, phase)
    h, r = T.HOLD, T.REST
    first = [on(60), h, h, h, on(62), h, h, h, on(64), h, h, h, on(65), h, h, h] + [on(67)] + [h] * 7 + [r] * 8
    second = [on(67)] + [h] * 7 + [r] * 8 + [on(72)] + [h] * 15
    np.testing.assert_array_equal(windows, [first, second])
    assert counts == {"silent": 0, "out of range": 0}


def test_pickup_tie_chord_and_triplet():
    pitch, onset, bar, phase = corpus.parse_abc(PICKUP)[0]
    assert (bar, phase) == (8, 2)                      # 2/4 bars of 8 steps; the tune starts with an eighth pickup
    windows, _ = T.windows_of(pitch, onset, bar, phase)
    h = T.HOLD
    # G2 A2-|A2 (tied: one note of 8 steps) [CEB]2 (chord: its top, B) | (3ABc (on the 16th grid) d2 | g4
    expected = [on(67), h, h, h, on(69)] + [h] * 7 + [on(71), h, h, h] + [on(69), on(71), h, on(72), on(74), h, h, h] \
        + [on(79)] + [h] * 7
    np.testing.assert_array_equal(windows[0], expected)


def test_meters_outside_twos_are_skipped_with_a_reason():
    assert corpus.parse_abc("X:1\nM:3/4\nL:1/4\nK:C\nCDE|]\n") == ["meter not in 2s"]
    assert corpus.parse_abc("X:1\nL:1/4\nK:C\nCDEF|]\n") == ["no meter"]


def test_windows_start_notes_held_over_and_drop_silence_and_out_of_range():
    pitch = np.array([60] * 20 + [-1] * 44 + [100] * 32, np.int8)
    onset = np.zeros(len(pitch), bool)
    onset[0] = onset[64] = True
    windows, counts = T.windows_of(pitch, onset, 16)
    assert counts == {"silent": 1, "out of range": 2}          # windows from steps 0, 16 | 32 | 48, 64
    assert windows.shape == (2, 32)
    # a window from step 16 would start inside the held C: the kept one starts it as a note
    win, _ = T.windows_of(pitch[16:48], onset[16:48], 16)
    assert win[0, 0] == on(60) and win[0, 1] == T.HOLD and win[0, 4] == T.REST


def test_to_steps_and_notes_read_a_hold_after_a_rest_as_silence():
    seq = np.array([on(60), T.HOLD, T.REST, T.HOLD, on(62)] + [T.HOLD] * 27)
    pitch, onset = T.to_steps(seq)
    assert list(pitch[:5]) == [60, 60, -1, -1, 62]
    assert T.notes(seq) == [(0, 2, 60), (4, 32, 62)]


def test_transposition_stays_in_range():
    rng = np.random.default_rng(0)
    seqs = np.array([[on(T.LOW), on(T.LOW + 2)] + [T.HOLD] * 30, [on(T.HIGH)] + [T.REST] * 31], np.int8)
    lo, hi = T.shift_bounds(seqs)
    assert list(lo) == [0, -(T.HIGH - T.LOW)] and list(hi) == [T.HIGH - T.LOW - 2, 0]
    for _ in range(20):
        out = T.random_transpose(seqs, rng)
        assert out.min() >= 0 and out.max() < T.VOCAB
        assert out[0, 0] >= seqs[0, 0] and out[1, 0] <= seqs[1, 0]
        np.testing.assert_array_equal(out >= T.FIRST_NOTE, seqs >= T.FIRST_NOTE)
    np.testing.assert_array_equal(T.transpose(seqs, 0), seqs)


def test_wav_is_a_valid_16_bit_file_of_the_right_length():
    seq = np.array([on(69)] + [T.HOLD] * 15 + [T.REST] * 16)
    with wave.open(io.BytesIO(wav_bytes(seq)), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert len(frames) == RATE * 4                          # 32 16ths at 120 bpm: 4 s
    first, second = frames[: RATE * 2].astype(float), frames[RATE * 2:]
    assert np.abs(first).max() > 10000 and np.abs(second).max() == 0
    spectrum = np.abs(np.fft.rfft(first[2000:18000]))
    assert abs(np.argmax(spectrum) * RATE / 16000 - 440) < 2  # the A sounds at 440 Hz


def test_midi_round_trip_through_own_reader_and_music21():
    pitch, onset, bar, phase = corpus.parse_abc(SCALE)[0]
    seq = T.windows_of(pitch, onset, bar, phase)[0][0]
    data = midi.midi_bytes(seq)
    p, o, b = midi.read_midi(data)
    assert b == 16
    np.testing.assert_array_equal(T.window_tokens(p[:32], o[:32]), seq)
    from music21 import converter
    score = converter.parseData(data, format="midi")
    got = [(float(n.offset), n.pitch.midi) for n in score.flatten().notes]
    assert got == [(0.0, 60), (1.0, 62), (2.0, 64), (3.0, 65), (4.0, 67)]


@pytest.mark.parametrize("data", [b"", b"RIFF1234", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\xe7\x28"])
def test_midi_reader_refuses_what_it_cannot_read(data):
    with pytest.raises(midi.MidiError):
        midi.read_midi(data)


def test_piano_roll_draws_notes_at_their_pitch_and_time():
    seq = np.array([on(60)] + [T.HOLD] * 15 + [on(72)] + [T.HOLD] * 15)
    img = np.asarray(Image.open(io.BytesIO(pianoroll.piano_roll_png(seq, width=256))))
    cell, row = 8, 4
    lo, hi = pianoroll.VIEW
    assert img.shape == ((hi - lo + 1) * row, 32 * cell, 3)
    y60, y72 = (hi - 60) * row + 1, (hi - 72) * row + 1
    assert tuple(img[y60, 5 * cell + 3]) == pianoroll.NOTE and tuple(img[y72, 5 * cell + 3]) != pianoroll.NOTE
    assert tuple(img[y72, 20 * cell + 3]) == pianoroll.NOTE and tuple(img[y60, 20 * cell + 3]) != pianoroll.NOTE
    assert tuple(img[0, 16 * cell]) == pianoroll.BAR            # the bar line between the two bars


def test_attributes_have_known_values():
    h, r = T.HOLD, T.REST
    # quarter notes C E G C', then an eighth off the beat held over the next beat, then silence
    seq = [on(60), h, h, h, on(64), h, h, h, on(67), h, h, h, on(72), h, h, h, r, r, on(71), h, h, h] + [r] * 10
    a = attributes.measure(np.array([seq, [r] * 32]))
    assert a["note_density"][0] == pytest.approx(5 / 32)
    assert a["mean_pitch"][0] == pytest.approx((60 + 64 + 67 + 72 + 71) / 5)
    assert a["pitch_range"][0] == 12
    assert a["mean_interval"][0] == pytest.approx((4 + 3 + 5 + 1) / 4)
    assert a["syncopation"][0] == pytest.approx(1 / 5)
    assert a["rest_share"][0] == pytest.approx(12 / 32)
    assert a["rest_share"][1] == 1 and a["mean_pitch"][1] == 60 and a["note_density"][1] == 0
    assert set(a) == set(attributes.INFO)


def test_the_trainer_transposes_melody_batches_and_leaves_rhythm_alone():
    """training.pipeline(augment=True) runs the modality's augment on each batch: every window keeps its
    rests and holds where they were and moves all its notes by one shift; images have no augmentation."""
    from vae import modalities
    from vae.training import pipeline

    rng = np.random.default_rng(0)
    x = np.full((64, T.STEPS), T.HOLD, np.int32)
    x[:, ::4] = T.note_on(60 + rng.integers(-3, 4, (64, 8)))
    x[:, 2::8] = T.REST
    y = np.zeros(64, np.int32)
    melody = modalities.get("melody")
    plain = np.concatenate([b["x"].numpy() for b in pipeline(x, y, 16, shuffle=False, modality=melody)])
    varied = np.concatenate([b["x"].numpy() for b in pipeline(x, y, 16, shuffle=False, modality=melody, augment=True)])
    np.testing.assert_array_equal(plain, x)
    is_note = x >= T.FIRST_NOTE
    np.testing.assert_array_equal(varied[~is_note], x[~is_note])
    shifts = varied.astype(int) - x
    per_row = [set(row[mask]) for row, mask in zip(shifts, is_note)]
    assert all(len(s) == 1 for s in per_row) and len({next(iter(s)) for s in per_row}) > 3
    assert all(T.TRANSPOSE[0] <= next(iter(s)) <= T.TRANSPOSE[1] for s in per_row)
    assert modalities.get("image").augmentation is None
