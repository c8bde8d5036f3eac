"""vae.modalities.text.tokenizer_choice: byte-level BPE is lossless and both tokenizations are scored per character."""
import numpy as np
import pytest

pytest.importorskip("tokenizers")

from vae.modalities.text import tokenizer_choice as tc  # noqa: E402

TEXTS = ["The cat sat on the mat.", "The dog sat on the log!", "Why not?", "A cat, a dog, a mat."] * 8


def test_bpe_ids_are_lossless_with_an_end_mark_and_fewer_tokens_than_characters():
    ids, size = tc.bpe_ids(TEXTS, TEXTS, 300)
    n = (ids > 0).sum(1)
    assert size > 256 and (ids[np.arange(len(ids)), n - 1] == size - 1).all()       # pieces, then the END id
    assert (n - 1 < np.array([len(t) for t in TEXTS])).all()                         # merges: fewer tokens
    chars, char_vocab = tc.char_ids(TEXTS)
    assert ((chars > 0).sum(1) == np.array([len(t) + 1 for t in TEXTS])).all() and char_vocab < size


def test_both_tokenizations_learn_and_score_on_one_scale():
    test_chars = sum(len(t) + 1 for t in TEXTS)
    scores = {}
    for name, (ids, vocab) in {"chars": tc.char_ids(TEXTS), "bpe": tc.bpe_ids(TEXTS, TEXTS, 300)}.items():
        untrained, _, _ = tc.nll_per_char(ids, vocab, ids, test_chars, epochs=0)
        trained, params, _ = tc.nll_per_char(ids, vocab, ids, test_chars, epochs=30, batch=8)
        assert params > 0 and trained < 0.5 * untrained, name                          # it learnt the sentences
        scores[name] = trained
    assert all(np.isfinite(v) for v in scores.values())
