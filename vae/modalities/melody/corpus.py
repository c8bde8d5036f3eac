"""The folk-melody corpus inside music21, parsed once into 16th-note step arrays and cached.

    python -m vae.modalities.melody.corpus          # parse every source (minutes), print what each gave
    tunes = load_tunes()                            # Tunes: per-step pitch (-1 rest) and onset of every tune

Sources: O'Neill's 1850 and Ryan's Mammoth Collection (ABC), the Essen folk songs (European, and the Chinese
han1/han2) and the soprano line of Bach's chorales. A tune is kept when it has one meter whose bar is 8, 16 or
32 sixteenths (2/4, 4/4, 2/2, 4/2 ...); others are skipped and counted by reason. Duplicate tunes (O'Neill's
files overlap) are kept once. The cache is an .npz (allow_pickle=False) under $VAE_CACHE_DIR or
~/.cache/latent-explorer whose name carries CORPUS_VERSION; a change of the parsing rules bumps it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

CORPUS_VERSION = 1
STEPS_PER_QUARTER = 4                    # 16th-note grid
BAR_STEPS = (8, 16, 32)                  # bars a 32-step window holds a whole number of
SOURCES = ("oneills", "ryans", "essen_europe", "essen_china", "bach")
SOURCE_NAMES = {"oneills": "O'Neill's 1850 (Irish)", "ryans": "Ryan's Mammoth (Irish/Scottish/American)",
                "essen_europe": "Essen folk songs (Europe)", "essen_china": "Essen folk songs (China)",
                "bach": "Bach chorales (soprano)"}
REASONS = ("no meter", "meter change", "meter not in 2s", "no notes", "duplicate", "unreadable")


@dataclasses.dataclass
class Tunes:
    """Every kept tune as step arrays laid end to end; tune i is steps offsets[i]:offsets[i+1]."""

    pitch: np.ndarray      # (S,) int8 MIDI pitch sounding at each 16th step, -1 for silence
    onset: np.ndarray      # (S,) bool: a note starts at this step
    offsets: np.ndarray    # (T+1,) int64
    source: np.ndarray     # (T,) int8 index into SOURCES
    bar: np.ndarray        # (T,) int8 steps per bar
    phase: np.ndarray      # (T,) int16 step of the first full bar (after a pickup)
    skipped: np.ndarray    # (len(SOURCES), len(REASONS)) int64 tunes left out, by reason

    def __len__(self) -> int:
        return len(self.source)

    def tune(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.pitch[a:b], self.onset[a:b]


def corpus_dir() -> Path:
    import music21
    return Path(music21.__file__).parent / "corpus"


def source_files(root: Path | None = None) -> list[tuple[str, Path]]:
    """(source, file) for every file of every source, in a fixed order."""
    root = corpus_dir() if root is None else root
    files = [("oneills", p) for p in sorted((root / "oneills1850").glob("*.abc"))]
    files += [("ryans", p) for p in sorted((root / "ryansMammoth").glob("*.abc"))]
    for p in sorted((root / "essenFolksong").glob("*.abc")):
        if not p.stem.startswith("test"):
            files.append(("essen_china" if p.stem.startswith("han") else "essen_europe", p))
    files += [("bach", p) for p in sorted((root / "bach").glob("bwv*.mxl"))]
    return files


def melody_part(score):
    """The part that carries the tune: the soprano of a chorale, else the first part."""
    parts = list(score.parts) if hasattr(score, "parts") else []
    if not parts:
        return score
    for p in parts:
        if "soprano" in (p.partName or "").lower():
            return p
    return parts[0]


def steps_of(part) -> tuple[np.ndarray, np.ndarray, int, int] | str:
    """A music21 part -> (pitch, onset, bar steps, phase), or the reason it is skipped (one of REASONS)."""
    from music21 import harmony
    meters = {ts.ratioString: ts for ts in part.recurse().getElementsByClass("TimeSignature")}
    if not meters:
        return "no meter"
    if len(meters) > 1:
        return "meter change"
    bar = round(next(iter(meters.values())).barDuration.quarterLength * STEPS_PER_QUARTER)
    if bar not in BAR_STEPS:
        return "meter not in 2s"
    events = []  # (start step, end step, midi, tied to the previous note)
    for n in part.flatten().notes:
        if isinstance(n, harmony.Harmony) or n.duration.isGrace or n.quarterLength <= 0:
            continue
        midi = max(p.midi for p in n.pitches)
        start = round(float(n.offset) * STEPS_PER_QUARTER)
        end = max(start + 1, round(float(n.offset + n.quarterLength) * STEPS_PER_QUARTER))
        tied = n.tie is not None and n.tie.type in ("stop", "continue")
        events.append((start, end, midi, tied))
    if not events:
        return "no notes"
    length = max(e[1] for e in events)
    pitch = np.full(length, -1, np.int8)
    onset = np.zeros(length, bool)
    for start, end, midi, tied in sorted(events, key=lambda e: e[0]):
        continues = tied and start > 0 and pitch[start - 1] == midi   # a tie joins equal pitches only
        pitch[start:end] = midi
        onset[start] = not continues
        onset[start + 1:end] = False
    measures = list(part.getElementsByClass("Measure"))
    phase = round(float(measures[1].offset) * STEPS_PER_QUARTER) % bar if len(measures) > 1 else 0
    return pitch, onset, bar, phase


def parse_file(item: tuple[str, str]) -> tuple[str, list, dict]:
    """One corpus file -> (source, [(pitch, onset, bar, phase)], {reason: count}); runs in a worker."""
    from music21 import converter, stream
    source, path = item
    skipped: dict = {}
    try:
        parsed = converter.parse(path)
    except Exception:  # noqa: BLE001 - music21 raises many kinds on bad files; the file is counted, not fatal
        return source, [], {"unreadable": 1}
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    kept = []
    for score in scores:
        try:
            got = steps_of(melody_part(score))
        except Exception:  # noqa: BLE001 - one malformed tune must not lose the rest of its file
            got = "unreadable"
        if isinstance(got, str):
            skipped[got] = skipped.get(got, 0) + 1
        else:
            kept.append(got)
    return source, kept, skipped


def cache_path() -> Path:
    root = Path(os.environ.get("VAE_CACHE_DIR") or Path.home() / ".cache" / "latent-explorer")
    return root / f"melody_corpus_v{CORPUS_VERSION}.npz"


def parse_corpus(files=None, workers: int = 2, progress=print) -> Tunes:
    """Parse every file (in `workers` processes), drop duplicate tunes, and count what was skipped."""
    files = source_files() if files is None else files
    pitch, onset, offsets, source, bar, phase = [], [], [0], [], [], []
    skipped = np.zeros((len(SOURCES), len(REASONS)), np.int64)
    seen = set()
    items = [(s, str(p)) for s, p in files]
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, (src, kept, skips) in enumerate(pool.map(parse_file, items, chunksize=1)):
            si = SOURCES.index(src)
            for reason, count in skips.items():
                skipped[si, REASONS.index(reason)] += count
            for p, o, b, ph in kept:
                key = hashlib.sha1(p.tobytes() + o.tobytes()).digest()
                if key in seen:
                    skipped[si, REASONS.index("duplicate")] += 1
                    continue
                seen.add(key)
                pitch.append(p), onset.append(o), source.append(si), bar.append(b), phase.append(ph)
                offsets.append(offsets[-1] + len(p))
            if progress:
                progress(f"[{i + 1}/{len(items)}] {Path(items[i][1]).name}: {len(kept)} tunes, "
                         f"{sum(skips.values())} skipped ({time.time() - t0:.0f} s)")
    empty = np.zeros(0, np.int8)
    return Tunes(np.concatenate(pitch) if pitch else empty, np.concatenate(onset) if onset else empty.astype(bool),
                 np.array(offsets, np.int64), np.array(source, np.int8), np.array(bar, np.int8),
                 np.array(phase, np.int16), skipped)


def save_tunes(tunes: Tunes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, version=np.array(CORPUS_VERSION), **dataclasses.asdict(tunes))
    os.replace(tmp, path)


def read_tunes(path: Path) -> Tunes | None:
    """The cached tunes, or None when the file is missing or of another CORPUS_VERSION."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != CORPUS_VERSION:
                return None
            return Tunes(**{f.name: z[f.name] for f in dataclasses.fields(Tunes)})
    except (OSError, KeyError, ValueError):
        return None


def load_tunes(progress=print, workers: int = 2) -> Tunes:
    """The parsed corpus: from the cache when present, else parsed now (minutes) and cached."""
    path = cache_path()
    tunes = read_tunes(path)
    if tunes is None:
        tunes = parse_corpus(workers=workers, progress=progress)
        save_tunes(tunes, path)
    return tunes


def report(tunes: Tunes) -> str:
    lines = [f"{'source':<44}{'tunes':>7}  skipped: " + ", ".join(REASONS)]
    for si, s in enumerate(SOURCES):
        lines.append(f"{SOURCE_NAMES[s]:<44}{int((tunes.source == si).sum()):>7}  "
                     + ", ".join(str(int(c)) for c in tunes.skipped[si]))
    return "\n".join(lines)


if __name__ == "__main__":
    t = load_tunes(workers=int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    print(report(t))


def parse_abc(text: str) -> list:
    """ABC text (one or more tunes) -> per tune (pitch, onset, bar steps, phase) or the reason it is skipped."""
    from music21 import converter, stream
    parsed = converter.parseData(text, format="abc")
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    return [steps_of(melody_part(s)) for s in scores]
