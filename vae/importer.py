"""Wrap a separately trained Keras encoder and decoder into a bundle that precompute and the app load.

    from vae.importer import import_pair
    import_pair("enc.keras", "dec.keras", "digits", "pretrained/mine")   # then: python scripts/precompute.py pretrained/mine

The encoder's posterior mean and log-variance are kept (chosen by output name or position), anything
else it returns (the sampled z, with its Sampling layer) is cut off, so that layer's class need not be
available. Layer classes that stay in use load only from Python files the user names (--custom-layers,
$VAE_CUSTOM_LAYERS); otherwise the import is refused with the class to register. Everything loads
with Keras safe_mode=True; a Lambda layer is never loaded, only cut off with the outputs it feeds.
"""
from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from .errors import VAEError
from .keras_config import all_layers, load_network, refuse_cut_layers

MEAN_NAMES = ("z_mean", "mean", "mu", "z_mu", "loc")
LOGVAR_NAMES = ("z_log_var", "log_var", "logvar", "z_logvar", "z_log_variance")
SIGMOID = {"sigmoid", "hard_sigmoid"}
LINEAR = {"linear", None}
SHAPE_ONLY = {"Reshape", "Flatten", "Cropping2D", "Permute", "Identity"}  # pass the last activation through
PROB_TOLERANCE = 1e-3
CHECK_IMAGES = 64


def _pick(names: list, choice, defaults: tuple, position: int, flag: str) -> int:
    """The index of an encoder output chosen by name or position (a name default first)."""
    listing = ", ".join(f"{i} {n!r}" for i, n in enumerate(names))
    if choice is None:
        for want in defaults:
            if want in names:
                return names.index(want)
        if position < len(names):
            return position
        raise VAEError(f"The encoder has {len(names)} output(s) ({listing}): it must give the posterior mean and "
                       f"log-variance; choose them with --mean-output and --logvar-output.")
    text = str(choice).strip()
    if text.lstrip("-").isdigit():
        i = int(text)
        if 0 <= i < len(names):
            return i
        raise VAEError(f"{flag} {text} is not an output of the encoder, which has {len(names)}: {listing}.")
    if text in names:
        return names.index(text)
    raise VAEError(f"{flag} {text[:60]!r} names no output of the encoder; its outputs are {listing}.")


def split_encoder(encoder, mean_output=None, logvar_output=None):
    """A functional model image -> (mean, logvar) cut out of the user's encoder; returns it and the
    names of the kept and dropped outputs."""
    import keras

    names = list(getattr(encoder, "output_names", None) or [f"output_{i}" for i in range(len(encoder.outputs))])
    i_mean = _pick(names, mean_output, MEAN_NAMES, 0, "--mean-output")
    i_logvar = _pick(names, logvar_output, LOGVAR_NAMES, 1, "--logvar-output")
    if i_mean == i_logvar:
        raise VAEError(f"--mean-output and --logvar-output both name output {i_mean} ({names[i_mean]!r}): choose "
                       "two different outputs.")
    if len(encoder.inputs) != 1:
        raise VAEError(f"The encoder takes {len(encoder.inputs)} inputs: only encoders of images alone "
                       "(unconditional models) can be imported.")
    kept = keras.Model(encoder.inputs, [encoder.outputs[i_mean], encoder.outputs[i_logvar]], name="encoder")
    refuse_cut_layers(kept, "encoder", f"outputs {names[i_mean]!r} and {names[i_logvar]!r}")
    dropped = [n for i, n in enumerate(names) if i not in (i_mean, i_logvar)]
    return kept, names[i_mean], names[i_logvar], dropped


def _shape(t) -> tuple:
    return tuple(t.shape[1:])


def image_shape_of(encoder, image_shape=None) -> tuple:
    """(H, W, C) the encoder takes: its input shape, or `image_shape` for a flat input of that size."""
    s = _shape(encoder.inputs[0])
    if image_shape is not None:
        image_shape = tuple(int(v) for v in image_shape)
        if None in s or int(np.prod(s)) != int(np.prod(image_shape)):
            raise VAEError(f"--image-shape {image_shape} does not fit the encoder's input shape {s}.")
        return image_shape
    if None in s:
        raise VAEError(f"The encoder takes inputs of shape {s} with a free size: give --image-shape H,W,C.")
    if len(s) == 3 and s[2] in (1, 3):
        return s
    if len(s) == 2:
        return (*s, 1)
    raise VAEError(f"The encoder takes inputs of shape {s}, not images (height, width, 1 or 3 channels): give "
                   "--image-shape H,W,C if its input is a flattened image.")


def check_pair(encoder, decoder, image_shape: tuple) -> int:
    """Refuse a decoder that does not fit the encoder; returns the latent size."""
    mean, logvar = encoder.outputs
    if len(_shape(mean)) != 1 or _shape(mean) != _shape(logvar) or None in _shape(mean):
        raise VAEError(f"The encoder's mean output has shape {_shape(mean)} and its log-variance output "
                       f"{_shape(logvar)}: both must be flat vectors of the same length; choose other outputs "
                       "with --mean-output and --logvar-output.")
    d = int(_shape(mean)[0])
    if len(decoder.inputs) != 1 or len(_shape(decoder.inputs[0])) != 1:
        raise VAEError(f"The decoder takes {len(decoder.inputs)} input(s) of shape "
                       f"{[_shape(t) for t in decoder.inputs]}: it must take one latent vector (an unconditional model).")
    d_dec = _shape(decoder.inputs[0])[0]
    if d_dec != d:
        raise VAEError(f"The decoder takes latent vectors of length {d_dec} but the encoder gives {d}: import the "
                       "encoder and decoder of the same model.")
    if len(decoder.outputs) != 1:
        raise VAEError(f"The decoder has {len(decoder.outputs)} outputs: it must give one image.")
    out = _shape(decoder.outputs[0])
    h, w, c = image_shape
    if None in out or not (out == image_shape or out == (h * w * c,) or (c == 1 and out == (h, w))):
        raise VAEError(f"The decoder gives outputs of shape {out}, not images of the encoder's input shape "
                       f"{image_shape}: import the decoder whose output is the image.")
    return d


def _last_activation(decoder):
    """The activation of the layer that makes the decoder's output, looking through reshapes."""
    layer = decoder.outputs[0]._keras_history[0]
    while type(layer).__name__ in SHAPE_ONLY:
        layer = layer._inbound_nodes[0].input_tensors[0]._keras_history[0]
    config = layer.get_config()
    if "activation" not in config:  # e.g. ReLU, BatchNormalization: neither logits nor probabilities for sure
        return f"none stated ({type(layer).__name__} layer)", layer.name
    act = config["activation"]
    return (act if isinstance(act, str) or act is None else str(act)), layer.name


def decoder_output_kind(decoder, given: str = "auto") -> tuple[str, str]:
    """("logits" or "probabilities", how it was decided)."""
    if given in ("logits", "probabilities"):
        return given, "given with --decoder-output"
    act, layer = _last_activation(decoder)
    if act in SIGMOID:
        return "probabilities", f"the last layer {layer!r} has a {act} activation"
    if act in LINEAR:
        return "logits", f"the last layer {layer!r} has no activation"
    raise VAEError(f"Cannot tell whether the decoder gives logits or probabilities (its last layer {layer!r} has "
                   f"activation {str(act)[:40]!r}): say which with --decoder-output logits or probabilities.")


def _data(spec: str, image_shape: tuple, seed: int):
    from .data import load_dataset

    options = {"image_size": image_shape[0], "channels": image_shape[2]} if spec.startswith("folder:") else {}
    ds = load_dataset(spec, seed=seed, **options)
    if ds.image_shape != image_shape:
        raise VAEError(f"The {ds.name} images are {ds.image_shape} but the encoder takes {image_shape}: import with "
                       "a dataset of images that size (folder: datasets are resized to the model's size).")
    return ds, {**options, "seed": seed}


def _check_outputs(model, x: np.ndarray, kind: str) -> None:
    """Encode and decode a few real images: finite, and probabilities really in [0, 1]."""
    import keras

    mean, logvar = (keras.ops.convert_to_numpy(t) for t in model.encode(x.astype(np.float32) / 255.0))
    raw = keras.ops.convert_to_numpy(model.decoder(mean))
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(logvar)) and np.all(np.isfinite(raw))):
        raise VAEError("The model gives NaN or infinite values on the dataset's images: check that it was trained "
                       "on images scaled like --input-range (default 0,1).")
    if kind == "probabilities" and (raw.min() < -PROB_TOLERANCE or raw.max() > 1 + PROB_TOLERANCE):
        raise VAEError(f"The decoder was taken to give probabilities but gives values from {raw.min():.3g} to "
                       f"{raw.max():.3g}: import with --decoder-output logits.")


def import_pair(encoder, decoder, dataset: str, out, mean_output=None, logvar_output=None,
                decoder_output: str = "auto", input_range=(0.0, 1.0), image_shape=None, custom_layers=(),
                seed: int = 0) -> dict:
    """Wrap the pair as a bundle at `out` and check it loads back as the app loads it; returns meta.json."""
    import keras

    from .archive import check_model_archive
    from .files import atomic_write_json, sha256
    from .store import FORMAT_VERSION, HISTORY, META, MODEL, check_out, package_versions, transaction
    from .data import dataset_spec
    from .imported import ImportedVAE, custom_objects

    out = Path(out).expanduser()
    check_out(out)
    files = [str(Path(f).expanduser().resolve()) for f in custom_layers]
    objects = custom_objects(files)
    enc_path, dec_path = Path(encoder).expanduser().resolve(), Path(decoder).expanduser().resolve()
    enc = load_network(enc_path, "encoder", objects)
    dec = load_network(dec_path, "decoder", objects)
    enc, mean_name, logvar_name, dropped = split_encoder(enc, mean_output, logvar_output)
    refuse_cut_layers(dec, "decoder", "output")
    shape = image_shape_of(enc, image_shape)
    latent_dim = check_pair(enc, dec, shape)
    kind, why = decoder_output_kind(dec, decoder_output)
    spec = dataset_spec(dataset)
    ds, options = _data(spec, shape, seed)
    model = ImportedVAE(enc, dec, image_shape=shape, latent_dim=latent_dim, decoder_output=kind,
                        input_range=tuple(input_range))
    _check_outputs(model, ds.x_test[:CHECK_IMAGES], kind)
    probe = ds.x_test[:8].astype(np.float32) / 255.0
    z = np.random.default_rng(seed).normal(size=(8, latent_dim)).astype(np.float32)
    want_mean = keras.ops.convert_to_numpy(model.encode(probe)[0])
    want_x = keras.ops.convert_to_numpy(model.decode(z, apply_sigmoid=True))
    meta = {
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "dataset": ds.name, "dataset_spec": spec, "source": ds.source, "class_names": ds.class_names,
        "splits": {"train": int(len(ds.x_train)), "test": int(len(ds.x_test))},
        "skipped_files": ds.skipped, "data_options": options,
        "imported": {"encoder": str(enc_path), "encoder_sha256": sha256(enc_path), "decoder": str(dec_path),
                     "decoder_sha256": sha256(dec_path), "mean_output": mean_name, "logvar_output": logvar_name,
                     "dropped_outputs": dropped, "decoder_output": kind, "decoder_output_decided_by": why,
                     "custom_layer_files": files,
                     "custom_layers": sorted({type(layer).__name__ for net in (model.encoder, model.decoder)
                                              for layer in all_layers(net)} - _builtin_layer_names())},
        "model": {"kind": "imported", **model.config.to_dict()},
        "image_shape": list(shape), "latent_dim": latent_dim, "conditional": False,
    }
    with transaction(out) as tmp:
        model.save(tmp / MODEL)
        check_model_archive(tmp / MODEL)  # what the app will accept
        again = keras.saving.load_model(tmp / MODEL, compile=False, safe_mode=True, custom_objects=objects or None)
        got_mean = keras.ops.convert_to_numpy(again.encode(probe)[0])
        got_x = keras.ops.convert_to_numpy(again.decode(z, apply_sigmoid=True))
        if not (np.allclose(got_mean, want_mean, atol=1e-5) and np.allclose(got_x, want_x, atol=1e-5)):
            raise VAEError("The saved model does not reproduce the imported one's outputs (a layer whose weights "
                           "Keras could not save?): nothing was written.")
        atomic_write_json(tmp / HISTORY, {})
        atomic_write_json(tmp / META, meta)
    return meta


def _builtin_layer_names() -> set:
    import keras

    return {n for n in dir(keras.layers) if not n.startswith("_")} | {"Functional", "Sequential", "InputLayer"}
