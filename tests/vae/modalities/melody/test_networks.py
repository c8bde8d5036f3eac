"""The sequence VAE's networks: a tiny training run, compiled greedy decoding, safe-mode save/load, the judge."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from vae.modalities.melody import networks as N
from vae.modalities.melody import tokens as T
from vae.modalities.melody.judge import FEATURES, NoteJudge, features


def patterns(n=4, seed=0):
    """n distinct two-bar melodies: runs of notes of one length each."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        length = [1, 2, 4][i % 3]
        seq = []
        while len(seq) < T.STEPS:
            seq += [int(T.note_on(rng.integers(55, 80)))] + [T.HOLD] * (length - 1)
        out.append(seq[:T.STEPS])
    return np.array(out, np.int32)


def train_steps(kind, x, steps=150, latent=8, seed=0):
    keras.utils.set_random_seed(seed)
    spec = N.MelodySpec(embed=16, encoder_units=48, decoder_units=64, decoder=kind)
    enc, dec = N.build_encoder(spec, latent), N.MelodyDecoder(**spec.decoder_config(latent, 0))
    opt = keras.optimizers.Adam(1e-2)
    weights = enc.trainable_weights + dec.trainable_weights

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            mean, logvar = enc([x])
            z = mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))
            kl = -0.5 * tf.reduce_sum(1 + logvar - mean ** 2 - tf.exp(logvar), axis=1)
            loss = tf.reduce_mean(N.token_nll(dec([z, x]), x) + 0.01 * kl)
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    for _ in range(steps):
        step(tf.constant(x))
    return enc, dec


@pytest.mark.parametrize("kind", N.DECODERS)
def test_tiny_training_reconstructs_free_running(kind):
    x = patterns()
    enc, dec = train_steps(kind, x)
    mean, _ = enc([x])
    greedy = dec.greedy(mean).numpy()
    assert greedy.shape == x.shape and greedy.dtype == np.int32
    assert np.mean(greedy == x) > 0.9                    # free-running, from the posterior mean


def test_greedy_is_the_argmax_of_teacher_forcing_on_its_own_output():
    spec = N.MelodySpec(embed=8, encoder_units=8, decoder_units=16)
    dec = N.MelodyDecoder(**spec.decoder_config(4, 0))
    z = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    out = dec.greedy(z).numpy()
    forced = np.argmax(dec([z, out]).numpy(), axis=-1)
    np.testing.assert_array_equal(forced, out)
    a, b = dec.draw(z, 1.0, seed=3).numpy(), dec.draw(z, 1.0, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() < T.VOCAB


def test_the_decoding_step_computes_what_teacher_forcing_does():
    # greedy, sampling, the beam and scoring run the LSTM from precomputed input projections, not the layer
    keras.utils.set_random_seed(2)
    spec = N.MelodySpec(embed=8, encoder_units=8, decoder_units=16)
    dec = N.MelodyDecoder(**spec.decoder_config(4, 0))
    z = tf.constant(np.random.default_rng(5).normal(size=(6, 4)).astype("float32") * 2.0)
    x = patterns(6, seed=3)
    inputs = dec._inputs(z)
    state, token, logits = dec.state0(z), tf.fill([6], dec.start), []
    for t in range(T.STEPS):
        h, state = dec._step(inputs, token, state)
        logits.append(dec.out(h))
        token = tf.constant(x[:, t])
    keras_lstm = dec([z, x], training=True).numpy()          # the LSTM layer itself (no dropout to differ)
    np.testing.assert_allclose(tf.stack(logits, 1).numpy(), keras_lstm, atol=1e-5)
    np.testing.assert_allclose(dec([z, x]).numpy(), keras_lstm, atol=1e-5)   # scoring takes the same steps


def test_beam_search_finds_sequences_at_least_as_likely_as_greedy():
    keras.utils.set_random_seed(0)
    spec = N.MelodySpec(embed=8, encoder_units=8, decoder_units=16)
    dec = N.MelodyDecoder(**spec.decoder_config(4, 0))
    z = np.random.default_rng(4).normal(size=(40, 4)).astype("float32") * 2.0
    greedy = dec.greedy(z).numpy()
    np.testing.assert_array_equal(dec.beam(z, 1).numpy(), greedy)   # a beam of one is the greedy decoding

    def loglik(seq):
        return -N.token_nll(dec([z, seq]), seq).numpy()

    wide = dec.beam(z, 6).numpy()
    assert wide.shape == greedy.shape and wide.dtype == np.int32 and wide.min() >= 0 and wide.max() < T.VOCAB
    gain = loglik(wide) - loglik(greedy)
    # a beam can prune the greedy path and end lower, but rarely: on the whole it finds likelier sequences
    assert np.mean(gain > -1e-3) >= 0.9 and np.mean(gain > 1e-3) >= 0.25, gain
    np.testing.assert_array_equal(dec.beam(z[:1], 6).numpy(), wide[:1])   # each row's search is its own


@pytest.mark.parametrize("kind", N.DECODERS)
def test_decoder_saves_and_loads_in_safe_mode(kind, tmp_path):
    spec = N.MelodySpec(embed=8, encoder_units=8, decoder_units=16, decoder=kind)
    dec = N.MelodyDecoder(**spec.decoder_config(4, 3))
    z = np.random.default_rng(2).normal(size=(3, 7)).astype("float32")
    x = patterns(3)
    dec.save(tmp_path / "dec.keras")
    back = keras.models.load_model(tmp_path / "dec.keras", safe_mode=True)
    np.testing.assert_allclose(back([z, x]), dec([z, x]), atol=1e-5)
    np.testing.assert_array_equal(back.greedy(z), dec.greedy(z))


def test_spec_refuses_unknown_decoder():
    with pytest.raises(ValueError, match="decoder must be one of"):
        N.MelodySpec(decoder="transformer")


def test_note_judge_tells_rhythms_apart():
    rng = np.random.default_rng(0)
    quarters = [[int(T.note_on(p)) if t % 4 == 0 else T.HOLD for t, p in enumerate(rng.integers(60, 72, 32))]
                for _ in range(60)]
    eighths = [[int(T.note_on(p)) if t % 2 == 0 else T.HOLD for t, p in enumerate(rng.integers(60, 72, 32))]
               for _ in range(60)]
    x, y = np.array(quarters + eighths), np.array([0] * 60 + [1] * 60)
    judge = NoteJudge(seed=0).fit(x, y)
    assert judge.accuracy == 1.0 and judge.held_out == 24
    assert judge.proba(x[:2], 0).min() > 0.5 and judge.proba(x[:2], 5).max() == 0
    f = features(x[:1])
    assert f[0, :12].sum() == pytest.approx(1) and f[0, 37 + 3] == 1.0   # every note 4 steps long


def reference_features(seq):
    """The judge's features of one window, note by note from tokens.notes."""
    f = np.zeros(FEATURES, np.float32)
    ns = T.notes(seq)
    if not ns:
        f[69] = 1.0
        return f
    starts, ends, pitches = (np.array(c) for c in zip(*ns))
    f[:12] = np.bincount(pitches % 12, minlength=12) / len(ns)
    if len(ns) > 1:
        f[12:37] = np.bincount(np.clip(np.diff(pitches), -12, 12) + 12, minlength=25) / (len(ns) - 1)
    f[37:53] = np.bincount(np.clip(ends - starts, 1, 16) - 1, minlength=16) / len(ns)
    f[53:69] = np.bincount(starts % 16, minlength=16) / len(ns)
    f[69] = 1.0 - (ends - starts).sum() / len(seq)
    f[70] = (pitches.mean() - 60.0) / 12.0
    return f


def test_judge_features_of_many_windows_at_once_are_each_windows_own():
    rng = np.random.default_rng(7)
    x = rng.choice([T.REST, T.HOLD, T.HOLD] + list(range(T.FIRST_NOTE, T.VOCAB)), size=(300, T.STEPS))
    x[:5], x[5:10], x[10:15, 1:] = T.HOLD, T.REST, T.HOLD      # no notes; all rest; one long note
    x = np.concatenate([x, patterns(6)]).astype(np.int8)
    np.testing.assert_allclose(features(x), np.stack([reference_features(s) for s in x]), atol=1e-6)
