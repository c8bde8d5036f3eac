"""Fortune files -> cleaned short quotations, collection classes, a seeded stratified split."""
import numpy as np
import pytest

from vae.errors import DataError
from vae.modalities.text import corpus


def write(folder, name, entries):
    (folder / name).write_text("\n%\n".join(entries) + "\n%\n")


def test_parse_collection_cleans_overstrikes_and_whitespace():
    raw = "First\tline\n  second line\n%\nB\bBold and _\bu_\bn_\bd_\be_\br\n%\n%\nlast one without a mark\n"
    assert corpus.parse_collection(raw) == ["First line second line", "Bold and under", "",
                                            "last one without a mark"]


def test_read_corpus_filters_merges_and_counts(tmp_path):
    write(tmp_path, "big", [f"Quote number {i}." for i in range(5)] + ["x" * 50, "Quote number 0."])
    write(tmp_path, "small", ["Only one here?", "caf\u00e9 au lait"])
    write(tmp_path, "tiny", ["Another lonely line."])
    (tmp_path / "big.dat").write_bytes(b"\x00\x01binary index")
    (tmp_path / "big.u8").write_text("Quote in the utf-8 twin.\n%\n")
    c = corpus.read_corpus(tmp_path, max_chars=40, min_class=3)
    assert c.class_names == ["big", "other"]
    assert sorted(c.texts) == sorted([f"Quote number {i}." for i in range(5)]
                                     + ["Only one here?", "Another lonely line."])
    assert list(np.bincount(c.labels)) == [5, 2]
    assert (c.too_long, c.out_of_alphabet, c.duplicates, c.entries) == (1, 1, 1, 10)


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="fortunes"):
        corpus.read_corpus(tmp_path / "nowhere")


def test_split_is_seeded_stratified_and_disjoint():
    labels = np.repeat([0, 1, 2], [40, 20, 3])
    train, test = corpus.split(labels, 0.25, seed=1)
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    assert list(np.bincount(labels[test])) == [10, 5, 1]          # each class its share, at least one
    again = corpus.split(labels, 0.25, seed=1)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(corpus.split(labels, 0.25, seed=2)[1], test)
