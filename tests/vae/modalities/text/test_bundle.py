"""A text bundle end to end through the generic code: train (scripts/train.py's run), save, load with
safe_mode, decode and sample through the bundle API, precompute what the app shows."""
import json
import random

import numpy as np
import pytest

pytest.importorskip("keras")

from vae.bundle import load_bundle  # noqa: E402
from vae.modalities.text import tokenizer as tk  # noqa: E402

WORDS = "the cat dog ship warp drive eats fish why not yes no maybe so who knows go on".split()


@pytest.fixture(scope="module")
def text_bundle(tmp_path_factory):
    from vae.precompute import precompute
    from vae.training import TrainConfig, run

    root = tmp_path_factory.mktemp("text")
    data = root / "quotes"
    data.mkdir()
    rng = random.Random(0)
    for name, end in (("asking", "?"), ("telling", ".")):
        entries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).capitalize() + end for _ in range(30)]
        (data / name).write_text("\n%\n".join(entries) + "\n%\n")
    (data / "asking.dat").write_bytes(b"\x00\x02")
    cfg = TrainConfig(dataset=f"text:{data}", modality="text", latent_dim=3, epochs=2, batch_size=16, kl_warmup=1,
                      free_bits=0.1, options={"max_chars": 40, "min_class": 5, "embed_dim": 8, "encoder_units": 8,
                                              "decoder_units": 16})
    run(cfg, root / "bundle", root / "run", restart=True, verbose=0, log=lambda *_: None)
    precompute(root / "bundle", split="test", progress=False, no_tsne=True, no_umap=True)
    return root / "bundle"


def test_bundle_decodes_sentences(text_bundle):
    meta = json.loads((text_bundle / "meta.json").read_text())
    assert meta["modality"] == "text" and meta["class_names"] == ["asking", "telling"]
    b = load_bundle(text_bundle)
    assert b.input_shape == (41,) and b.modality.name == "text"
    x = b.modality.read_example("Why not?", b.spec)
    mean, _ = b.encode(x)
    ids = b.decode(np.repeat(mean, 2, 0))
    assert ids.dtype == np.int32 and ids.shape == (2, 41)
    np.testing.assert_array_equal(ids[0], ids[1])                      # greedy: the same point, the same text
    drawn = b.sample(np.repeat(mean, 4, 0), temperature=1.0, seed=3)
    np.testing.assert_array_equal(drawn, b.sample(np.repeat(mean, 4, 0), temperature=1.0, seed=3))
    assert all(isinstance(t, str) for t in tk.decode(drawn))
    assert np.isfinite(b.nll(x, mean)).all()


def test_readings_are_the_decoding_then_seeded_draws_at_the_same_point(text_bundle):
    from vae.generate import readings

    b = load_bundle(text_bundle)
    mean, _ = b.encode(b.modality.read_example("Why not?", b.spec))
    z = np.concatenate([mean, mean + 1.5])
    r = readings(b, z, samples=5, temperature=1.5, seed=2)
    assert r.shape == (2, 6, 41)
    np.testing.assert_array_equal(r[:, 0], b.decode(z))
    np.testing.assert_array_equal(r, readings(b, z, samples=5, temperature=1.5, seed=2))
    np.testing.assert_array_equal(r[0, 1:], b.sample(np.repeat(mean, 5, 0), temperature=1.5, seed=2)[:5])
    assert len({tuple(row) for row in r[0, 1:]}) > 1          # draws, not five copies of one string
    assert readings(b, z, samples=0).shape == (2, 1, 41)


def test_precomputed_attributes_and_judge(text_bundle):
    from vae.precomputed import load_precomputed

    pre = load_precomputed(load_bundle(text_bundle))
    texts = tk.decode(pre.images)
    np.testing.assert_allclose(pre.attributes["length"], [len(t) for t in texts])
    np.testing.assert_allclose(pre.attributes["question"], [t.endswith("?") for t in texts])


def test_measure_scores_a_bundle_against_an_anchor_bundle(text_bundle, tmp_path, capsys):
    """The anchor is scripts/train.py --no-latent: its bundle stores the exact -log p(x) at z = 0, and measure
    refuses a VAE given as an anchor."""
    from vae.modalities.text import measure
    from vae.training import TrainConfig, run

    import dataclasses

    meta = json.loads((text_bundle / "meta.json").read_text())
    same = {k: v for k, v in meta["training"].items() if k in {f.name for f in dataclasses.fields(TrainConfig)}}
    cfg = TrainConfig.from_dict({**same, "no_latent": True, "kl_warmup": 0, "free_bits": 0})
    figures = run(cfg, tmp_path / "anchor", tmp_path / "run", restart=True, verbose=0, log=lambda *_: None)
    assert figures["anchor"] and figures["kl"] == 0.0 and figures["neg_elbo"] > 0
    row = measure.main([str(text_bundle), "--anchor", str(tmp_path / "anchor"), "--k", "3"])
    assert row["iwae_k"] == 3 and row["test_sentences"] > 0 and 0 <= row["char_accuracy"] <= 1
    assert row["anchor_nll_per_sentence"] == pytest.approx(figures["neg_elbo"], rel=1e-4)
    assert row["decode_ms_median"] > 0
    assert row["gap_percent"] == pytest.approx(100 * (row["nll_per_token"] / row["anchor_nll_per_token"] - 1))
    assert '"gap_percent"' in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not an anchor"):
        measure.main([str(text_bundle), "--anchor", str(text_bundle)])
