"""TextModality's contract: registry, data checks, attributes, distance, the judge, a user's sentence."""
import numpy as np
import pytest

from vae import modalities
from vae.errors import VAEError
from vae.modalities.text import MODALITY, TextInputError, TextSpec
from vae.modalities.text import tokenizer as tk

SPEC = TextSpec(length=21, embed_dim=8, encoder_units=8, decoder_units=16)


def test_registered_under_text():
    assert modalities.get("text") is MODALITY
    assert MODALITY.noun == "sentence" and MODALITY.spec_class is TextSpec


def test_spec_dict_round_trip_and_bad_values():
    assert TextSpec(**SPEC.to_dict()) == SPEC
    with pytest.raises(VAEError, match="token_dropout"):
        TextSpec(token_dropout=1.5)


def test_read_example_encodes_and_refuses_with_one_sentence():
    ids = MODALITY.read_example("  Is  this\tthe end? ", SPEC)
    assert ids.shape == (1, 21) and tk.decode(ids) == ["Is this the end?"]
    for bad, words in [("   ", "empty"), ("x" * 21, "at most 20"), ("naïve café", "'ï', 'é'"),
                       (b"bytes \xff", "'\ufffd'"), ("y" * 50_000, "10,000+")]:
        with pytest.raises(TextInputError) as err:
            MODALITY.read_example(bad, SPEC)
        message = str(err.value)
        assert words in message and message.count(". ") == 0 and message.endswith(".")
    with pytest.raises(TextInputError, match="Type a sentence"):
        MODALITY.read_example(np.zeros((2, 2)), SPEC)


def test_check_examples():
    x = tk.encode(["ok"], 21)
    assert MODALITY.check_examples(x.astype(np.int64), SPEC).dtype == np.int32
    with pytest.raises(VAEError, match=r"\(N, 21\)"):
        MODALITY.check_examples(np.zeros((1, 20), np.int32), SPEC)
    with pytest.raises(VAEError, match="0..98"):
        MODALITY.check_examples(np.full((1, 21), 200), SPEC)


def test_attributes_measure_the_text():
    x = tk.encode(["Why NOT?", "ok, fine.", ""], 21)
    a = MODALITY.attributes(x)
    np.testing.assert_allclose(a["length"], [8, 9, 0])
    np.testing.assert_allclose(a["question"], [1, 0, 0])
    np.testing.assert_allclose(a["capitals"], [4 / 6, 0, 0])
    np.testing.assert_allclose(a["punctuation"], [1 / 7, 2 / 8, 0])
    assert set(MODALITY.attribute_info(list(a))) == set(a)


def test_distance_is_the_share_of_wrong_tokens():
    x = tk.encode(["abcd", "abcd"], 21)
    decoded = tk.encode(["abXd", "abcd"], 21)
    np.testing.assert_allclose(MODALITY.distance(x, decoded), [1 / 5, 0])
    np.testing.assert_allclose(MODALITY.distance(x, tk.encode(["ab", "abcdef"], 21)), [3 / 5, 1 / 5])


def test_judge_tells_collections_apart():
    texts = [f"the ship {w} warp drive" for w in "abcdefghij"] + [f"my cat {w} eats fish" for w in "abcdefghij"]
    judge = MODALITY.judge(seed=0).fit(tk.encode(texts, 40), np.repeat([0, 1], 10))
    probe = tk.encode(["warp ship", "the cat eats"], 40)
    np.testing.assert_array_equal(judge.predict(probe), [0, 1])
    assert judge.proba(probe, 1)[1] > 0.5 > judge.proba(probe, 1)[0]
    assert judge.accuracy == 1.0 and judge.held_out == 4
    np.testing.assert_array_equal(judge.proba(probe, 7), [0, 0])


def test_training_options_are_checked_before_any_data_is_read():
    from vae.training import TrainConfig, option_fields

    assert {"max_chars", "min_class", "embed_dim", "encoder_units", "decoder_units", "token_dropout"} <= set(
        option_fields(MODALITY))
    assert MODALITY.check_options({"max_chars": 80, "decoder_units": 64}, 16) is None
    for options, flag in [({"max_chars": 0}, "--max-chars"), ({"decoder_units": 1}, "--decoder-units"),
                          ({"token_dropout": 1.0}, "--token-dropout"), ({"embed_dim": 2.5}, "whole numbers")]:
        with pytest.raises(VAEError, match=flag):
            TrainConfig(dataset="fortunes", modality="text", options=options)
