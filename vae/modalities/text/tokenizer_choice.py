"""Characters or subwords? The same language model trained on each tokenization, scored per character.

    pip install tokenizers       # Hugging Face's BPE trainer: needed only for this measurement
    python -m vae.modalities.text.tokenizer_choice --epochs 12 --vocab 0,300,1000,3000 --out tokenizers.json
    python -m vae.modalities.text.tokenizer_choice --epochs 12 --vocab 0 --units 240   # characters, as many weights

For each tokenization the fortunes training split is encoded, a GRU language model of the sentence
decoder's size (embeddings 32, GRU 128) is trained for the same epochs with the same batch, learning
rate and seed, and the test split's negative log-likelihood is divided by its characters (END mark
counted as one), so that models whose tokens cover different amounts of text compare on one scale.
Byte-level BPE is lossless: every test sentence is spelt, so no test text is dropped for either.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def char_ids(texts: list[str]):
    """(ids (N, T): characters, END, padding 0; vocabulary size) in the text modality's own alphabet."""
    from . import tokenizer as tk

    ids = tk.encode(texts, max(len(t) for t in texts) + 1)
    return ids, tk.VOCAB_SIZE


def bpe_ids(train_texts: list[str], texts: list[str], vocab: int, seed: int = 0):
    """A byte-level BPE of `vocab` pieces trained on train_texts; texts as (ids (N, T), vocabulary size):
    the pieces, then an end id, then padding 0 (ids are shifted to leave 0 for padding)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(train_texts, trainers.BpeTrainer(
        vocab_size=vocab, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    pieces = [bpe.encode(t).ids for t in texts]
    assert all(bpe.decode(p) == t for p, t in zip(pieces[:200], texts[:200])), "byte-level BPE must be lossless"
    size = bpe.get_vocab_size()
    end = size + 1
    out = np.zeros((len(texts), max(len(p) for p in pieces) + 1), np.int32)
    for row, p in enumerate(pieces):
        out[row, :len(p)] = np.asarray(p) + 1
        out[row, len(p)] = end
    return out, size + 2


def language_model(vocab: int, embed: int = 32, units: int = 128):
    """Next-token logits from the previous tokens (the extra id `vocab` starts each sentence): the decoder without z."""
    import keras
    from keras import layers

    prev = keras.Input(shape=(None,), dtype="int32")
    h = layers.Embedding(vocab + 1, embed)(prev)           # + 1: the start id after the last piece
    h = layers.GRU(units, return_sequences=True)(h)
    return keras.Model(prev, layers.Dense(vocab)(h))


def nll_per_char(ids, vocab: int, test_ids, test_chars: int, epochs: int, batch: int = 128, seed: int = 0,
                 units: int = 128):
    """Train the language model on ids; (test nats per character, weights, seconds)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = language_model(vocab, units=units)
    start = vocab  # the extra embedding row

    def inputs(x):
        return np.concatenate([np.full((len(x), 1), start, np.int32), x[:, :-1]], axis=1)

    def loss(y, logits):
        ce = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        return tf.reduce_sum(ce * tf.cast(y > 0, ce.dtype)) / tf.cast(tf.shape(y)[0], ce.dtype)

    model.compile(optimizer=keras.optimizers.Adam(2e-3, global_clipnorm=5.0), loss=loss)
    started = time.perf_counter()
    model.fit(inputs(ids), ids, batch_size=batch, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - started
    total = 0.0
    for lo in range(0, len(test_ids), 256):
        x = test_ids[lo:lo + 256]
        total += float(loss(x, model(inputs(x)))) * len(x)
    return total / test_chars, int(model.count_params()), seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--vocab", default="0,300,1000,3000", help="BPE vocabulary sizes, comma-separated (0: characters)")
    p.add_argument("--units", type=int, default=128, help="GRU units (128: the sentence decoder's); a wider GRU gives "
                   "characters as many weights as a subword model's larger embedding and output layer")
    p.add_argument("--out", default="")
    args = p.parse_args(argv)

    from . import MODALITY
    from . import tokenizer as tk

    ds = MODALITY.load_dataset("fortunes")
    train, test = tk.decode(ds.x_train), tk.decode(ds.x_test)
    test_chars = sum(len(t) + 1 for t in test)            # characters and one END mark each
    rows = []
    options = [("characters", None) if int(v) == 0 else ("byte-level BPE", int(v)) for v in args.vocab.split(",")]
    for name, vocab in options:
        if vocab is None:
            (x, size), (xt, _) = char_ids(train), char_ids(test)
        else:
            both, size = bpe_ids(train, train + test, vocab)
            x, xt = both[:len(train)], both[len(train):]
        per_char, params, seconds = nll_per_char(x, size, xt, test_chars, args.epochs, units=args.units)
        tokens = float((xt > 0).sum(1).mean())
        row = {"tokenizer": name, "vocabulary": size, "units": args.units, "tokens_per_sentence": round(tokens, 1),
               "parameters": params, "test_nats_per_char": round(per_char, 4), "epochs": args.epochs,
               "train_seconds": round(seconds, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
