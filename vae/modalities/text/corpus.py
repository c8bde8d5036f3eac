"""The fortunes corpus: Debian's quotation collections as short sentences, classes and a seeded split.

    from vae.modalities.text.corpus import read_corpus, split
    quotes = read_corpus("/usr/share/games/fortunes")      # Corpus: texts, labels, class names, counts
    train, test = split(quotes.labels, test_fraction=0.15, seed=0)

A collection is a file of entries separated by lines holding only "%". Entries are cleaned
(overstrike "X<backspace>Y" -> "Y", whitespace runs -> one space), kept when at most `max_chars`
long and spelt in the alphabet, de-duplicated (first collection alphabetically wins), and
collections with fewer than `min_class` short entries are merged into "other".
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from ...errors import DataError
from .tokenizer import ALPHABET

FORTUNES_DIR = "/usr/share/games/fortunes"
SKIP_SUFFIXES = {".dat", ".u8", ".pos", ".sig"}
OTHER = "other"
MAX_FILE_BYTES = 64 << 20   # one collection file read whole: a larger one is not a fortunes file

_OVERSTRIKE = re.compile(r"[^\x08]\x08")
_SPACE = re.compile(r"\s+")
_ALLOWED = frozenset(ALPHABET)


@dataclasses.dataclass
class Corpus:
    """Cleaned short quotations with integer collection labels, and what was left out."""

    texts: list
    labels: np.ndarray          # (N,) int32 into class_names
    class_names: list
    entries: int = 0            # entries read in all collections
    too_long: int = 0           # longer than max_chars after cleaning
    out_of_alphabet: int = 0    # holding a character outside the alphabet
    duplicates: int = 0
    empty: int = 0


def normalise(text: str) -> str:
    """One line of text: overstrikes resolved, whitespace runs as one space, ends stripped."""
    while "\x08" in text:
        stripped = _OVERSTRIKE.sub("", text)
        if stripped == text:
            text = text.replace("\x08", "")
        else:
            text = stripped
    return _SPACE.sub(" ", text).strip()


def parse_collection(raw: str) -> list[str]:
    """Entries of one fortune file: blocks between lines that hold only "%", normalised, empty ones kept."""
    entries, block = [], []
    for line in raw.splitlines():
        if line.strip() == "%":
            entries.append(normalise("\n".join(block)))
            block = []
        else:
            block.append(line)
    if any(line.strip() for line in block):
        entries.append(normalise("\n".join(block)))
    return entries


def collection_files(folder) -> list[Path]:
    """The collection files of a fortunes folder (no .dat/.u8 twins, no off/ subfolder), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"No fortunes folder at {folder}: install Debian's fortunes package "
                        "(apt-get install fortunes) or pass text:PATH to a folder of fortune files.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix not in SKIP_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder} holds no fortune files: pass a folder of files with entries separated by '%' lines.")
    return files


def read_corpus(folder=FORTUNES_DIR, max_chars: int = 120, min_class: int = 40) -> Corpus:
    """The short, de-duplicated quotations of every collection in `folder`, labelled by collection."""
    out = Corpus([], np.zeros(0, np.int32), [])
    seen, by_file = set(), []
    for path in collection_files(folder):
        if path.stat().st_size > MAX_FILE_BYTES:
            continue
        kept = []
        for text in parse_collection(path.read_bytes().decode("utf-8", errors="replace")):
            out.entries += 1
            if not text:
                out.empty += 1
            elif len(text) > max_chars:
                out.too_long += 1
            elif not _ALLOWED.issuperset(text):
                out.out_of_alphabet += 1
            elif text in seen:
                out.duplicates += 1
            else:
                seen.add(text)
                kept.append(text)
        by_file.append((path.name, kept))
    big = sorted(name for name, kept in by_file if len(kept) >= min_class)
    names = big + ([OTHER] if any(len(kept) < min_class for _, kept in by_file) else [])
    index = {name: i for i, name in enumerate(names)}
    labels = []
    for name, kept in by_file:
        out.texts.extend(kept)
        labels.extend([index.get(name, index.get(OTHER, 0))] * len(kept))
    if len(names) < 2 or len(out.texts) < 4:
        raise DataError(f"{folder} gave {len(out.texts)} short quotations in {len(names)} collections: "
                        f"a text dataset needs at least 4 in 2 collections of {min_class} or more.")
    out.labels = np.asarray(labels, np.int32)
    out.class_names = names
    return out


def split(labels, test_fraction: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, stratified (train, test) row indices: each class gives its share (at least one) to test."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        rows = rng.permutation(np.nonzero(labels == cls)[0])
        k = int(round(len(rows) * test_fraction)) if len(rows) > 1 else 0
        k = min(max(k, 1 if len(rows) > 1 else 0), len(rows) - 1)
        test.append(rows[:k])
        train.append(rows[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
