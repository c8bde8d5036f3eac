"""Standard MIDI files, written and read without dependencies (format 0/1, one melody line).

    data = midi_bytes(tokens)                       # a format-0 .mid, 120 bpm, 16th = 120 ticks
    pitch, onset, bar = read_midi(data)             # 16th-step arrays of the highest sounding note
"""
from __future__ import annotations

import struct

import numpy as np

from .tokens import notes

TICKS_PER_QUARTER = 480
TICKS_PER_STEP = TICKS_PER_QUARTER // 4
MAX_STEPS = 1 << 16          # a longer file is cut here: about 68 minutes at 120 bpm


class MidiError(ValueError):
    """Bytes that are not a standard MIDI file this reader handles."""


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def midi_bytes(tokens, bpm: float = 120, program: int = 0, velocity: int = 90) -> bytes:
    """Tokens (T,) -> a format-0 MIDI file (4/4, tempo, one channel)."""
    events = []  # (tick, order, bytes): note-offs sort before note-ons at the same tick
    for start, end, midi in notes(tokens):
        events.append((start * TICKS_PER_STEP, 1, bytes([0x90, midi, velocity])))
        events.append((end * TICKS_PER_STEP, 0, bytes([0x80, midi, 0])))
    track = bytearray()
    track += b"\x00\xff\x58\x04\x04\x02\x18\x08"                           # 4/4
    track += b"\x00\xff\x51\x03" + int(round(60e6 / bpm)).to_bytes(3, "big")  # tempo
    track += b"\x00" + bytes([0xC0, program & 0x7F])
    now = 0
    for tick, _, data in sorted(events):
        track += _vlq(tick - now) + data
        now = tick
    end = len(np.asarray(tokens).reshape(-1)) * TICKS_PER_STEP
    track += _vlq(max(0, end - now)) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def _read_vlq(data: bytes, i: int) -> tuple[int, int]:
    n = 0
    for _ in range(4):
        if i >= len(data):
            raise MidiError("a track ends in the middle of an event")
        b = data[i]
        i += 1
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            return n, i
    raise MidiError("a length is longer than four bytes")


def _track_notes(data: bytes) -> tuple[list, tuple | None, int]:
    """(start tick, end tick, midi) of one track's notes (drums left out), its first time signature, its end."""
    i, tick, status, sounding, out, meter = 0, 0, None, {}, [], None
    while i < len(data):
        delta, i = _read_vlq(data, i)
        tick += delta
        if i >= len(data):
            break
        if data[i] & 0x80:
            status, i = data[i], i + 1
        if status is None:
            raise MidiError("an event has no status byte")
        if status == 0xFF:                                   # meta event
            kind, (length, i) = data[i], _read_vlq(data, i + 1)
            if kind == 0x58 and length >= 2 and meter is None:
                meter = (data[i], 2 ** data[i + 1])
            i += length
            if kind == 0x2F:
                break
            continue
        if status in (0xF0, 0xF7):                           # sysex
            length, i = _read_vlq(data, i)
            i += length
            continue
        kind, channel = status & 0xF0, status & 0x0F
        size = 1 if kind in (0xC0, 0xD0) else 2
        args = data[i:i + size]
        i += size
        if len(args) < size or kind not in (0x80, 0x90) or channel == 9:
            continue
        key, vel = args[0], args[1]
        if kind == 0x90 and vel > 0:
            sounding.setdefault(key, []).append(tick)
        elif sounding.get(key):
            out.append((sounding[key].pop(0), tick, key))
    return out, meter, tick


def read_midi(data: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """MIDI bytes -> (pitch int8 (S,) with -1 silence, onset bool (S,), steps per bar) on a 16th grid.

    Every track's notes are merged; where notes overlap the highest one is the melody."""
    if data[:4] != b"MThd" or len(data) < 14:
        raise MidiError("it does not start with a MIDI header")
    _, fmt, ntracks, division = struct.unpack(">IHHH", data[4:14])
    if division & 0x8000 or division == 0:
        raise MidiError("its timing is in SMPTE frames, not beats")
    i, all_notes, meter, end = 8 + struct.unpack(">I", data[4:8])[0], [], None, 0
    for _ in range(ntracks):
        if data[i:i + 4] != b"MTrk":
            break
        length = struct.unpack(">I", data[i + 4:i + 8])[0]
        got, m, last = _track_notes(data[i + 8:i + 8 + length])
        all_notes += got
        end = max(end, last)
        meter = meter or m
        i += 8 + length
    if not all_notes:
        raise MidiError("it holds no notes")
    per_step = division / 4
    steps = min(MAX_STEPS, int(round(max([end] + [e for _, e, _ in all_notes]) / per_step)))
    pitch = np.full(steps, -1, np.int16)
    onset = np.zeros(steps, bool)
    for start, end, key in sorted(all_notes, key=lambda n: n[2]):     # higher notes drawn last win
        a = int(round(start / per_step))
        b = max(a + 1, int(round(end / per_step)))
        if a >= steps:
            continue
        pitch[a:b] = key
        onset[a] = True
        onset[a + 1:b] = False
    keep = np.zeros(steps, bool)                     # an onset survives only where its own pitch sounds
    keep[1:] = pitch[1:] != pitch[:-1]
    onset |= keep & (pitch >= 0)
    bar = 16 if meter is None else int(round(meter[0] * 16 / meter[1]))
    return pitch.astype(np.int8), onset, bar
