"""Sentence VAE networks: teacher-forced likelihood, compiled greedy and sampled decoding, a tiny training
run that keeps the KL above zero, and a safe_mode save/load round trip."""
import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from vae.modalities.text import networks, remedies  # noqa: E402
from vae.modalities.text import tokenizer as tk  # noqa: E402
from vae.modalities.text.spec import TextSpec  # noqa: E402

SPEC = TextSpec(length=13, embed_dim=8, encoder_units=8, decoder_units=16, token_dropout=0.3)
SENTENCES = ["Ask again.", "Why not?", "Yes.", "No way!", "Maybe so.", "Who knows?", "It is so.", "Go on."]


@pytest.fixture(scope="module")
def nets():
    keras.utils.set_random_seed(0)
    return networks.build_encoder(SPEC, 3), networks.build_decoder(SPEC, 3)


def test_nll_sums_scored_tokens_only(nets):
    _, dec = nets
    x = tk.encode(["ab", "abcdef"], SPEC.length)
    z = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    per_token = networks.token_nll(dec, z, x).numpy()
    assert (per_token[0, 3:] == 0).all() and (per_token[0, :3] > 0).all()   # "ab" + END scored, padding not
    np.testing.assert_allclose(networks.nll(dec, z, x).numpy(), per_token.sum(1), rtol=1e-6)


def test_greedy_is_the_teacher_forced_argmax(nets):
    _, dec = nets
    z = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32) * 3
    ids = networks.greedy(dec, z)
    assert ids.shape == (4, SPEC.length) and ids.dtype == np.int32
    logits = dec([keras.ops.convert_to_tensor(z), networks.previous_tokens(ids)]).numpy()
    n = tk.lengths(ids)
    for row in range(4):
        np.testing.assert_array_equal(logits[row, :n[row]].argmax(-1), ids[row, :n[row]])
        assert (ids[row, n[row]:] == tk.PAD).all()


def test_sampling_is_seeded_and_cold_sampling_is_greedy(nets):
    _, dec = nets
    z = np.zeros((3, 3), np.float32)
    a, b = networks.sample(dec, z, seed=5), networks.sample(dec, z, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, networks.sample(dec, z, seed=6))
    np.testing.assert_array_equal(networks.sample(dec, z, temperature=1e-6, seed=1), networks.greedy(dec, z))


def test_token_dropout_only_in_training():
    layer = networks.TokenDropout(0.5, seed=0)
    ids = tk.encode(["abcdefghij"], SPEC.length)
    np.testing.assert_array_equal(layer(ids), ids)
    dropped = np.asarray(layer(ids, training=True))
    assert dropped[0, 0] == ids[0, 0] and (dropped == tk.DROP).any()
    assert (dropped[ids == tk.PAD] == tk.PAD).all()


def test_tiny_training_keeps_kl_above_zero(tmp_path):
    """Remedies are generic training settings: free bits and annealing keep the latent in use, and the anchor
    (the decoder alone at z = 0, --no-latent) is scored exactly, with no KL."""
    data = tmp_path / "quotes"
    data.mkdir()
    words = "cat dog sun fish why not yes no so go".split()
    for name, end in (("asking", "?"), ("telling", ".")):
        quotes = [f"{a.capitalize()} {b}{end}" for a in words for b in words if a != b][::3]
        (data / name).write_text("\n%\n".join(quotes) + "\n%\n")
    sizes = {"embed_dim": 8, "encoder_units": 8, "decoder_units": 16, "max_chars": 12, "min_class": 2}
    rows = {r["remedy"]: r for r in remedies.compare(["anneal+dropout+freebits", "lm"], 12, f"text:{data}",
                                                      run_root=tmp_path / "runs", log=lambda *_: None,
                                                      training={"batch_size": 8, "lr": 1e-2}, **sizes)}
    vae_row, lm = rows["anneal+dropout+freebits"], rows["lm"]
    assert vae_row["kl_per_sentence"] > 0.5 and vae_row["latent_dim"] == 16
    assert vae_row["nll_per_token"] < 0.8 * np.log(tk.VOCAB_SIZE)     # learnt something: below a uniform guess
    assert lm["kl_per_sentence"] == 0.0 and lm["exact"] and lm["nll_per_sentence"] > 0
    cfg = remedies.config("anneal+dropout+freebits", 12)
    assert (cfg.kl_warmup, cfg.free_bits, cfg.options["token_dropout"], cfg.clip_norm) == (6.0, 0.25, 0.3, 5.0)
    assert remedies.config("lm", 12).no_latent and remedies.config("cyclical", 12).kl_cycles == 4


def test_decoder_round_trips_through_a_safe_mode_keras_file(nets, tmp_path):
    _, dec = nets
    path = tmp_path / "decoder.keras"
    dec.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    z = np.ones((2, 3), np.float32)
    x = tk.encode(["hello", "bye"], SPEC.length)
    np.testing.assert_allclose(networks.nll(again, z, x).numpy(), networks.nll(dec, z, x).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(networks.greedy(again, z), networks.greedy(dec, z))
    assert dataclasses.asdict(SPEC)["token_dropout"] == 0.3
